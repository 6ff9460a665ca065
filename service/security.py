"""Security headers on every response, NUL bytes refused before they reach the database,
signed tokens for the links we mail, secrets the database keeps sealed, and the cost of
password hashing."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from argon2 import PasswordHasher
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, abort, current_app, make_response, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
STRICT_TRANSPORT_SECURITY = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")

# Argon2id at its lightest (one pass over 8 KiB): what tests hash with when they set
# TEST_FAST_PASSWORD_HASHING, so that thousands of accounts and logins cost no CPU.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def password_hasher(full_cost: PasswordHasher) -> PasswordHasher:
    """``full_cost``, or the lightest Argon2id for a test app that asks for it (the setting is
    refused outside tests). Verifying reads each stored hash's own settings, so either hasher
    checks a hash the other made."""
    return _TEST_HASHER if current_app.config["TEST_FAST_PASSWORD_HASHING"] else full_cost


def set_security_headers(response: Response) -> Response:
    response.headers.extend(SECURITY_HEADERS)
    return response


def no_store(view: Callable[..., Any]) -> Callable[..., Response]:
    """For a page that shows someone's personal data (their registration, joining link,
    signature): neither the browser nor any cache on the way keeps a copy."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        return forbid_storing(make_response(view(*args, **kwargs)))

    return wrapped


def forbid_storing(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def reject_nul_bytes() -> None:
    """PostgreSQL refuses NUL in text, so a NUL in the address is answered here: in the path
    it names no page (404), in the query it is bad input (400). Forms refuse it field by field
    (``service.forms``), so the rest of what was typed is kept."""
    if "\x00" in request.path:
        abort(404)
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(reject_nul_bytes)
    app.after_request(set_security_headers)

    if not app.debug:

        @app.after_request
        def strict_transport_security(response: Response) -> Response:
            response.headers.extend((STRICT_TRANSPORT_SECURITY,))
            return response


def sign_link(purpose: str, payload: Any) -> str:
    """A URL-safe token for ``payload``, signed with the app's key for one purpose only."""
    return _serializer(purpose).dumps(payload)


def read_link(purpose: str, token: str, *, max_age: int | None = None) -> Any | None:
    """The payload of a token made by ``sign_link`` for ``purpose``; None if forged or old."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except BadData:  # forged, tampered, expired or not ours at all
        return None


def read_id_link(purpose: str, token: str, *, max_age: int | None = None) -> tuple[int, str] | None:
    """``read_link`` for the links that carry ``[row id, secret]``: the id and the secret (to
    compare with ``hmac.compare_digest``), or None if forged, old or of another shape."""
    payload = read_link(purpose, token, max_age=max_age)
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and isinstance(payload[1], str)
    ):
        return payload[0], payload[1]
    return None


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"convoca-{purpose}")


# Secrets the database keeps but must not give to whoever reads a copy of it (a backup, a
# dump): sealed with Fernet (AES-128-CBC and HMAC-SHA256) under a key derived from SECRET_KEY.
SEAL_KEY_INFO = b"convoca: secrets kept in the database"


@cache
def _seal_key(secret_key: str | bytes) -> Fernet:
    material = secret_key if isinstance(secret_key, bytes) else secret_key.encode()
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=SEAL_KEY_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))


def _seal_keys() -> MultiFernet:
    """SECRET_KEY's key first; those of ``SECRET_KEY_FALLBACKS`` still open what they sealed."""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    keys = [current_app.config["SECRET_KEY"], *fallbacks]
    return MultiFernet([_seal_key(key) for key in keys])


def seal(value: str) -> str:
    """``value`` encrypted and authenticated, for a column (about 140 characters for 32)."""
    return _seal_keys().encrypt(value.encode()).decode()


def unseal(sealed: str) -> str | None:
    """What ``seal`` sealed; None if it was sealed under another key, or altered."""
    try:
        return _seal_keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None

"""The second factor: a TOTP app (RFC 6238, pyotp) and ten one-time recovery codes.

A secret is kept on the account from the set-up page on, sealed (``security.seal``: a copy of
the database does not give it away), and counts only once a first code from the app confirms
it (``totp_confirmed_at``). A code is accepted for a time step later than the last one
accepted (``totp_last_step``), so a code seen over someone's shoulder opens nothing after it
was used. Recovery codes are stored as Argon2 hashes only.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from markupsafe import Markup
from sqlalchemy import delete, or_, select, update

from service.audit.service import record
from service.db import unit_of_work
from service.extensions import db
from service.organisers.models import Organiser, RecoveryCode
from service.security import password_hasher, seal, unseal

RECOVERY_CODE_COUNT = 10
# Letters and digits nobody confuses (no 0/o, 1/l/i): 12 of them are about 59 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 12
# A recovery code is random, not chosen by a person: OWASP's lightest Argon2id settings are
# ample, and checking ten hashes at a login stays quick. The hasher reads each stored hash's
# own settings when it verifies, so it also checks passwords.
_FULL_COST_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def _hasher() -> PasswordHasher:
    return password_hasher(_FULL_COST_HASHER)


def is_enabled(organiser: Organiser) -> bool:
    """Whether logging in to this account asks for a second factor."""
    return organiser.totp_confirmed_at is not None and organiser.totp_secret is not None


def _secret_of(organiser: Organiser) -> str | None:
    """The account's secret, unsealed; None without one, or when SECRET_KEY changed with no
    fallback (then only a recovery code lets the account in)."""
    return unseal(organiser.totp_secret) if organiser.totp_secret is not None else None


def pending_secret(organiser: Organiser) -> str:
    """The secret the set-up page shows: the one not yet confirmed, or a new one."""
    pending = _secret_of(organiser) if organiser.totp_confirmed_at is None else None
    if pending is not None:
        return pending
    secret = pyotp.random_base32()
    with unit_of_work():
        organiser.totp_secret = seal(secret)
        organiser.totp_confirmed_at = None
        organiser.totp_last_step = None
    return secret


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code of ``uri`` as an inline ``<svg>`` element named ``title``: attributes only,
    no style, so the page's strict Content-Security-Policy lets it draw."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title
    )
    return Markup(svg)  # noqa: S704 - segno's own markup, from a URI it encodes


def _normalised_code(code: str) -> str:
    return "".join(code.split())


def _accepted_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to, within one step either side of ``now``."""
    code = _normalised_code(code)
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _take_step(organiser: Organiser, step: int) -> bool:
    """Record ``step`` as used if it is later than the last used one; False if not (a replay,
    or another request took it first: the update is one conditional statement)."""
    taken = db.session.execute(
        update(Organiser)
        .where(
            Organiser.id == organiser.id,
            or_(Organiser.totp_last_step.is_(None), Organiser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    organiser.totp_last_step = step
    return True


def confirm(organiser: Organiser, code: str, now: datetime) -> list[str] | None:
    """Turn the pending secret on with a first code from the app. Returns the new recovery
    codes, to show once, or None if the code does not match."""
    secret = _secret_of(organiser)
    if secret is None or is_enabled(organiser):
        return None
    step = _accepted_step(secret, code, now)
    if step is None:
        return None
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    hashes = [_hasher().hash(code) for code in codes]  # slow by design: before the write lock
    with unit_of_work():
        if not _take_step(organiser, step):
            return None
        organiser.totp_confirmed_at = now
        _replace_recovery_codes(organiser, hashes, now)
        record("second_factor.enabled", organiser, now=now)
    return codes


def verify(organiser: Organiser, code: str, now: datetime) -> bool:
    """Whether ``code`` from the app lets this account in now; each code works once."""
    secret = _secret_of(organiser)
    if not is_enabled(organiser) or secret is None:
        return False
    step = _accepted_step(secret, code, now)
    if step is None:
        return False
    with unit_of_work():
        if not _take_step(organiser, step):
            return False
        organiser.totp_secret = seal(secret)  # under today's SECRET_KEY, if a fallback opened it
        return True


def use_recovery_code(organiser: Organiser, code: str, now: datetime) -> bool:
    """Whether ``code`` is one of the account's unused recovery codes; it is then used up."""
    typed = _normalised_code(code).replace("-", "").lower()
    if not is_enabled(organiser) or len(typed) != RECOVERY_CODE_LENGTH:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.organiser_id == organiser.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for stored in unused:
        if _matches(stored.code_hash, typed):
            with unit_of_work():
                used = db.session.execute(
                    update(RecoveryCode)
                    .where(RecoveryCode.id == stored.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now)
                    .execution_options(synchronize_session=False)
                )
                if used.rowcount != 1:
                    return False
                record("second_factor.recovery_code_used", organiser, now=now)
            return True
    return False


def unused_recovery_codes(organiser: Organiser) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.organiser_id == organiser.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def regenerate_recovery_codes(organiser: Organiser, password: str, now: datetime) -> list[str]:
    """New recovery codes in place of the old ones (which stop working), if ``password`` is
    the account's; an empty list if it is not."""
    if not is_enabled(organiser) or not _matches(organiser.password_hash, password):
        return []
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    hashes = [_hasher().hash(code) for code in codes]
    with unit_of_work():
        _replace_recovery_codes(organiser, hashes, now)
    return codes


def disable(organiser: Organiser, password_or_code: str, now: datetime) -> bool:
    """Turn the second factor off, given the account's password or a code from the app."""
    if not is_enabled(organiser):
        return False
    if not (
        _matches(organiser.password_hash, password_or_code)
        or verify(organiser, password_or_code, now)
    ):
        return False
    with unit_of_work():
        organiser.totp_secret = None
        organiser.totp_confirmed_at = None
        organiser.totp_last_step = None
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
        record("second_factor.disabled", organiser, now=now)
    return True


def record_failed_code(organiser: Organiser, now: datetime) -> None:
    record("login.failed_code", organiser, now=now)


def format_recovery_code(code: str) -> str:
    """``abcd-efgh-jkmn``: easier to copy by hand; the dashes are optional when typed."""
    return "-".join(code[start : start + 4] for start in range(0, len(code), 4))


def _new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def _replace_recovery_codes(organiser: Organiser, hashes: list[str], now: datetime) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    db.session.add_all(
        RecoveryCode(organiser_id=organiser.id, code_hash=code_hash, created_at=now)
        for code_hash in hashes
    )


def _matches(stored_hash: str, typed: str) -> bool:
    try:
        return _hasher().verify(stored_hash, typed)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False

"""Unsubscribe links and the addresses that asked for no more mail of a kind.

An address is known here only by its keyed hash (``address_hash``): links and the
``unsubscriptions`` table name nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from service.db import conflict_insert, unit_of_work
from service.extensions import db
from service.identity import normalise_email
from service.mail.models import MessageKind, Unsubscription
from service.security import read_link, sign_link
from service.urls import absolute_url

UNSUBSCRIBE_PURPOSE = "unsubscribe"
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600  # a link in an old reminder still works for a year
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_IN_CHUNK = 500  # values in one IN list: well under SQLite's and PostgreSQL's limits


def address_hash(address: str) -> str:
    """The keyed hash an address is known by in ``unsubscriptions`` and unsubscribe links:
    HMAC-SHA256 of the normalised address under ``SECRET_KEY``, in hex. Nobody without the key
    can read the address back or test a guess against it."""
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else key.encode()
    typed = normalise_email(address).encode("utf-8", "replace")  # whatever a form brought
    return hmac.new(key, typed, hashlib.sha256).hexdigest()


def unsubscribe_link(email: str, kind: MessageKind) -> str:
    """A signed link over the address's keyed hash and the kind: no address inside."""
    token = sign_link(UNSUBSCRIBE_PURPOSE, [address_hash(email), kind.value])
    return absolute_url("mail.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[str, MessageKind] | None:
    """The address hash and kind a link was made for, or None when it is forged or too old."""
    payload = read_link(UNSUBSCRIBE_PURPOSE, token, max_age=UNSUBSCRIBE_MAX_AGE)
    try:
        hashed, kind = payload  # type: ignore[misc]
        if not (isinstance(hashed, str) and _HEX_DIGEST.fullmatch(hashed)):
            return None
        return hashed, MessageKind(kind)
    except (TypeError, ValueError):
        return None


def unsubscribe(hashed_address: str, kind: MessageKind, now: datetime) -> None:
    """Stop ``kind`` mail to the address with this hash (``address_hash``). Idempotent.
    Messages already queued stop at the dispatcher, which looks here before each send."""
    if not _HEX_DIGEST.fullmatch(hashed_address):  # never an address stored by mistake
        raise ValueError("unsubscribe takes address_hash(address), not an address")
    with unit_of_work() as session:
        session.execute(
            conflict_insert(session, Unsubscription)
            .values(address_hash=hashed_address, kind=kind, created_at=now)
            .on_conflict_do_nothing(index_elements=["address_hash", "kind"])
        )


def is_unsubscribed(email: str, kind: MessageKind) -> bool:
    return bool(unsubscribed_addresses([email], kind))


def unsubscribed_addresses(addresses: Iterable[str], kind: MessageKind) -> set[str]:
    """Those of ``addresses`` that asked for no more ``kind`` mail."""
    by_hash: dict[str, list[str]] = {}
    for address in addresses:
        by_hash.setdefault(address_hash(address), []).append(address)
    hashes = list(by_hash)
    found: set[str] = set()
    for start in range(0, len(hashes), _IN_CHUNK):
        found.update(
            db.session.scalars(
                select(Unsubscription.address_hash).where(
                    Unsubscription.kind == kind,
                    Unsubscription.address_hash.in_(hashes[start : start + _IN_CHUNK]),
                )
            )
        )
    return {address for hashed in found for address in by_hash[hashed]}

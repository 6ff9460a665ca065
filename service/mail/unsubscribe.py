"""Unsubscribe links and the addresses that asked for no more mail of a kind.

An address is known here only by its keyed hash (``address_hash``): links and the
``unsubscriptions`` table name nobody. A speaker's "stop these briefs" stops that event's
briefs only, and a follow-up's link that event's follow-up (``EVENT_SCOPED_KINDS``); every
other kind stops for every event, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import or_, select

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
# Kinds whose link stops the mail of the one event it came with: a speaker who cannot make
# one meeting still wants the brief of the next, and so does a follow-up's reader.
EVENT_SCOPED_KINDS = frozenset({MessageKind.SPEAKER_REMINDER, MessageKind.FOLLOW_UP})


class UnsubscribeRequest(NamedTuple):
    """What a link asks to stop: ``kind`` mail to the address with this hash, of one event
    (``event_id``) or of every event (None)."""

    hashed_address: str
    kind: MessageKind
    event_id: int | None


def address_hash(address: str) -> str:
    """The keyed hash an address is known by in ``unsubscriptions`` and unsubscribe links:
    HMAC-SHA256 of the normalised address under ``SECRET_KEY``, in hex. Nobody without the key
    can read the address back or test a guess against it."""
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else key.encode()
    typed = normalise_email(address).encode("utf-8", "replace")  # whatever a form brought
    return hmac.new(key, typed, hashlib.sha256).hexdigest()


def unsubscribe_link(email: str, kind: MessageKind, event_id: int | None = None) -> str:
    """A signed link over the address's keyed hash and the kind (and, for
    ``EVENT_SCOPED_KINDS``, the event the message is about): no address inside."""
    payload: list[str | int] = [address_hash(email), kind.value]
    if kind in EVENT_SCOPED_KINDS and event_id is not None:
        payload.append(event_id)
    return absolute_url("mail.unsubscribe", token=sign_link(UNSUBSCRIBE_PURPOSE, payload))


def read_unsubscribe_token(token: str) -> UnsubscribeRequest | None:
    """What a link was made for, or None when it is forged, too old or of another shape."""
    payload = read_link(UNSUBSCRIBE_PURPOSE, token, max_age=UNSUBSCRIBE_MAX_AGE)
    if not isinstance(payload, list) or len(payload) not in (2, 3):
        return None
    hashed, kind, *scope = payload
    event_id = scope[0] if scope else None
    if not (isinstance(hashed, str) and _HEX_DIGEST.fullmatch(hashed)):
        return None
    if event_id is not None and not (isinstance(event_id, int) and event_id > 0):
        return None
    try:
        return UnsubscribeRequest(hashed, MessageKind(kind), event_id)
    except ValueError:
        return None


def unsubscribe(
    hashed_address: str, kind: MessageKind, now: datetime, event_id: int | None = None
) -> None:
    """Stop ``kind`` mail to the address with this hash (``address_hash``), of one event
    or (``event_id`` None) of all. Idempotent. Messages already queued stop at the
    dispatcher, which looks here before each send."""
    if not _HEX_DIGEST.fullmatch(hashed_address):  # never an address stored by mistake
        raise ValueError("unsubscribe takes address_hash(address), not an address")
    with unit_of_work() as session:
        session.execute(
            conflict_insert(session, Unsubscription)
            .values(address_hash=hashed_address, kind=kind, event_id=event_id, created_at=now)
            # Either partial unique index: the address, kind (and event) are in already.
            .on_conflict_do_nothing()
        )


def is_unsubscribed(email: str, kind: MessageKind, event_id: int | None = None) -> bool:
    return bool(unsubscribed_addresses([email], kind, event_id))


def unsubscribed_addresses(
    addresses: Iterable[str], kind: MessageKind, event_id: int | None = None
) -> set[str]:
    """Those of ``addresses`` that asked for no more ``kind`` mail: of every event, or of
    the event ``event_id`` (for ``EVENT_SCOPED_KINDS``)."""
    scope = Unsubscription.event_id.is_(None)
    if kind in EVENT_SCOPED_KINDS and event_id is not None:
        scope = or_(scope, Unsubscription.event_id == event_id)
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
                    scope,
                    Unsubscription.address_hash.in_(hashes[start : start + _IN_CHUNK]),
                )
            )
        )
    return {address for hashed in found for address in by_hash[hashed]}

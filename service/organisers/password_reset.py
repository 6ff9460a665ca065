"""Resetting a forgotten password by email: a signed link valid for an hour, used once."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from flask import current_app

from service.audit import service as audit
from service.db import unit_of_work
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind
from service.organisers import service as accounts
from service.organisers.models import Organiser
from service.security import read_id_link, sign_link
from service.urls import absolute_url

RESET_LINK_SECONDS = 3600
_PURPOSE = "password-reset"
# Fingerprinted when the address has no account, so both ways do the same work.
_NO_ACCOUNT_HASH = "no account"


def _fingerprint(password_hash: str) -> str:
    """What a link is bound to: the account's current password hash, which the reset (or any
    change of password) replaces, so a used link opens nothing."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def request_reset(email: str, now: datetime, language: str = "") -> None:
    """Queue a reset link for the active account with this address, if there is one; the same
    work and no answer either way, so nobody learns whether the address has an account."""
    organiser = accounts.find_organiser(email)
    real = organiser is not None and organiser.active
    fingerprint = _fingerprint(organiser.password_hash if organiser else _NO_ACCOUNT_HASH)
    with unit_of_work():
        if real and organiser is not None:
            mail.queue_message(
                kind=MessageKind.ACCOUNT,
                dedupe_key=f"password-reset:{organiser.id}:{fingerprint}:{now.isoformat()}",
                to=organiser.email,
                name=organiser.name,
                language=language or current_app.config["BABEL_DEFAULT_LOCALE"],
                template="organisers/password_reset",
                params={"organiser_id": organiser.id},
                now=now,
            )
            audit.record("password.reset_requested", organiser, now=now)


def reset_url(organiser: Organiser) -> str:
    token = sign_link(_PURPOSE, [organiser.id, _fingerprint(organiser.password_hash)])
    return absolute_url("welcome.reset_password", token=token)


def account_from_link(token: str) -> Organiser | None:
    """The active account a reset link is for while it works; None when it is forged, older
    than an hour or used (the password changed since)."""
    linked = read_id_link(_PURPOSE, token, max_age=RESET_LINK_SECONDS)
    if linked is None:
        return None
    organiser_id, fingerprint = linked
    organiser = db.session.get(Organiser, organiser_id)
    if (
        organiser is None
        or not organiser.active
        or not hmac.compare_digest(_fingerprint(organiser.password_hash), fingerprint)
    ):
        return None
    return organiser


def reset_password(organiser: Organiser, new_password: str, now: datetime) -> None:
    """Set the new password; every session of the account ends and the link stops working."""
    with unit_of_work():
        accounts.set_password(organiser, new_password)
        audit.record("password.reset", organiser, now=now)


@mail.message_builder("organisers/password_reset")
def reset_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    organiser = db.session.get(Organiser, params["organiser_id"])
    if organiser is None:
        raise LookupError(f"organiser {params['organiser_id']} no longer exists")
    return mail.MessageContent(
        {"reset_url": reset_url(organiser), "link_minutes": RESET_LINK_SECONDS // 60}
    )

"""Organiser accounts and sessions, and the events the dashboard lists."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from service.audit import service as audit
from service.db import unit_of_work
from service.events.models import Event
from service.extensions import db
from service.identity import normalise_email
from service.organisers.models import Organiser, new_session_key
from service.security import password_hasher

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommendation), as OWASP advises.
_FULL_COST_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


def _hasher() -> PasswordHasher:
    return password_hasher(_FULL_COST_HASHER)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the email is unknown, so a wrong address takes as long as a wrong
    password."""
    return hasher.hash("not a password anyone has")


_dummy_hash(_FULL_COST_HASHER)  # made now, so that no login waits for it


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def create_organiser(
    email: str, password: str, *, name: str = "", admin: bool = False
) -> Organiser:
    email = normalise_email(email)
    _check_password(password)
    password_hash = _hasher().hash(password)  # slow by design: before the write lock
    with unit_of_work():
        if db.session.scalar(select(Organiser.id).where(Organiser.email == email)) is not None:
            raise AccountError(f"an organiser with the address {email} exists already")
        organiser = Organiser(email=email, name=name, password_hash=password_hash, is_admin=admin)
        db.session.add(organiser)
    return organiser


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def authenticate(email: str, password: str, now: datetime) -> Organiser | None:
    """The active organiser with this email and password, or None (the same time either way).
    Every attempt is in the audit record; a failed one never with the address typed."""
    organiser = db.session.scalar(
        select(Organiser).where(Organiser.email == normalise_email(email))
    )
    hasher = _hasher()
    try:
        hasher.verify(organiser.password_hash if organiser else _dummy_hash(hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        audit.record(
            "login.failed", organiser, detail=_failure(organiser, "wrong password"), now=now
        )
        return None
    if organiser is None or not organiser.active:
        audit.record(
            "login.failed", organiser, detail=_failure(organiser, "account disabled"), now=now
        )
        return None
    new_hash = hasher.hash(password) if hasher.check_needs_rehash(organiser.password_hash) else None
    with unit_of_work():
        if new_hash is not None:
            organiser.password_hash = new_hash
        organiser.last_login_at = now
        if organiser.totp_confirmed_at is None:
            audit.record("login", organiser, now=now)
        else:  # logged in only once the code is right too (second_factor.code)
            audit.record("login.password", organiser, detail="second factor next", now=now)
    return organiser


def _failure(organiser: Organiser | None, reason: str) -> str:
    return reason if organiser is not None else "unknown account"


def change_password(organiser: Organiser, current: str, new: str) -> bool:
    """Set a new password if ``current`` is right; every other session of the account ends."""
    try:
        _hasher().verify(organiser.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    _check_password(new)
    new_hash = _hasher().hash(new)
    with unit_of_work():
        organiser.password_hash = new_hash
        organiser.session_key = new_session_key()
    return True


def set_password(organiser: Organiser, new: str) -> None:
    """Set a new password without the current one (a reset link proved the address); every
    session of the account ends."""
    _check_password(new)
    new_hash = _hasher().hash(new)
    with unit_of_work():
        organiser.password_hash = new_hash
        organiser.session_key = new_session_key()


def end_sessions(organiser: Organiser) -> None:
    """Log the account out everywhere: a copy of any of its session cookies, taken before,
    opens nothing after (logging out ends the session on the server, not only in the
    browser)."""
    with unit_of_work():
        organiser.session_key = new_session_key()


def disable_organiser(email: str) -> Organiser:
    organiser = find_organiser(email)
    if organiser is None:
        raise AccountError(f"no organiser with the address {normalise_email(email)}")
    set_active(organiser, False)
    return organiser


class LastAdmin(AccountError):
    """The change would leave no active admin to manage accounts."""


def set_active(organiser: Organiser, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions everywhere at once. The last
    active admin cannot be disabled (nobody could manage accounts from the web after)."""
    with unit_of_work():
        if not active and organiser.is_admin and organiser.active:
            # The active admins' rows stay locked until the commit: two admins disabling
            # each other at once cannot both see the other still active.
            active_admins = db.session.scalars(
                select(Organiser.id)
                .where(Organiser.is_admin.is_(True), Organiser.active.is_(True))
                .with_for_update()
            ).all()
            if set(active_admins) <= {organiser.id}:
                raise LastAdmin(f"{organiser.email} is the last active admin")
        organiser.active = active
        if not active:
            organiser.session_key = new_session_key()


def get_organiser(organiser_id: int) -> Organiser | None:
    return db.session.get(Organiser, organiser_id)


def find_organiser(email: str) -> Organiser | None:
    return db.session.scalar(select(Organiser).where(Organiser.email == normalise_email(email)))


def load_organiser(session_id: str) -> Organiser | None:
    """The organiser a login session belongs to, if the session is still valid."""
    organiser_id, _sep, session_key = session_id.partition(":")
    if not organiser_id.isdigit():
        return None
    organiser = db.session.get(Organiser, int(organiser_id))
    if organiser is None or not organiser.active or organiser.session_key != session_key:
        return None
    return organiser


def list_organisers() -> list[Organiser]:
    return list(db.session.scalars(select(Organiser).order_by(Organiser.email)))


def events_for_organisers(now: datetime, visible: set[int] | None = None) -> list[Event]:
    """Every event (or those of ``visible``, ``access.visible_event_ids``), upcoming first
    (soonest first), then past ones, latest first."""
    shown = select(Event) if visible is None else select(Event).where(Event.id.in_(visible))
    upcoming = db.session.scalars(shown.where(Event.ends_at >= now).order_by(Event.starts_at))
    past = db.session.scalars(
        shown.where(Event.ends_at < now).order_by(Event.starts_at.desc()).limit(20)
    )
    return [*upcoming, *past]

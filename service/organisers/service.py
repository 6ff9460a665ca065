"""Organiser accounts, attendee lists, check-in and the record of exports."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import case, func, or_, select

from service.events.models import Event
from service.extensions import db
from service.mail.service import normalise_email
from service.organisers.models import ExportRecord, Organiser, new_session_key
from service.registration.models import JoinClick, Registration, RegistrationStatus

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommendation), as OWASP advises.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")
MIN_PASSWORD_LENGTH = 12
ATTENDEES_PAGE_SIZE = 50


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def create_organiser(
    email: str, password: str, *, name: str = "", admin: bool = False
) -> Organiser:
    email = normalise_email(email)
    if db.session.scalar(select(Organiser.id).where(Organiser.email == email)) is not None:
        raise AccountError(f"an organiser with the address {email} exists already")
    _check_password(password)
    organiser = Organiser(
        email=email, name=name, password_hash=_hasher.hash(password), is_admin=admin
    )
    db.session.add(organiser)
    db.session.commit()
    return organiser


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def authenticate(email: str, password: str, now: datetime) -> Organiser | None:
    """The active organiser with this email and password, or None (the same time either way)."""
    organiser = db.session.scalar(
        select(Organiser).where(Organiser.email == normalise_email(email))
    )
    try:
        _hasher.verify(organiser.password_hash if organiser else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if organiser is None or not organiser.active:
        return None
    if _hasher.check_needs_rehash(organiser.password_hash):
        organiser.password_hash = _hasher.hash(password)
    organiser.last_login_at = now
    db.session.commit()
    return organiser


def change_password(organiser: Organiser, current: str, new: str) -> bool:
    """Set a new password if ``current`` is right; every other session of the account ends."""
    try:
        _hasher.verify(organiser.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    _check_password(new)
    organiser.password_hash = _hasher.hash(new)
    organiser.session_key = new_session_key()
    db.session.commit()
    return True


def end_sessions(organiser: Organiser) -> None:
    """Log the account out everywhere: a copy of any of its session cookies, taken before,
    opens nothing after (logging out ends the session on the server, not only in the
    browser)."""
    organiser.session_key = new_session_key()
    db.session.commit()


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
    if not active and organiser.is_admin and organiser.active:
        other_admins = db.session.scalar(
            select(func.count()).where(
                Organiser.is_admin.is_(True),
                Organiser.active.is_(True),
                Organiser.id != organiser.id,
            )
        )
        if not other_admins:
            raise LastAdmin(f"{organiser.email} is the last active admin")
    organiser.active = active
    if not active:
        organiser.session_key = new_session_key()
    db.session.commit()


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


@dataclass(frozen=True)
class AttendeeCounts:
    registered: int
    waiting: int
    cancelled: int
    checked_in: int
    joined_online: int


def attendee_counts(event_id: int) -> AttendeeCounts:
    status = Registration.status
    row = db.session.execute(
        select(
            func.count(case((status == RegistrationStatus.CONFIRMED, 1))),
            func.count(case((status == RegistrationStatus.WAITING, 1))),
            func.count(case((status == RegistrationStatus.CANCELLED, 1))),
            func.count(Registration.checked_in_at),
        ).where(Registration.event_id == event_id)
    ).one()
    joined = db.session.scalar(
        select(func.count(func.distinct(JoinClick.registration_id)))
        .join(Registration)
        .where(Registration.event_id == event_id)
    )
    return AttendeeCounts(*row, joined_online=joined or 0)


class AttendeeFilter(enum.StrEnum):
    ALL = "all"
    REGISTERED = "registered"
    WAITING = "waiting"
    CANCELLED = "cancelled"


def find_attendees(
    event_id: int, search: str = "", status: AttendeeFilter = AttendeeFilter.ALL, page: int = 1
) -> tuple[list[Registration], int]:
    """One page of the event's attendees (name, email or organisation contains ``search``),
    in registration order, and how many match in all."""
    query = select(Registration).where(Registration.event_id == event_id)
    if status is not AttendeeFilter.ALL:
        wanted = {
            AttendeeFilter.REGISTERED: RegistrationStatus.CONFIRMED,
            AttendeeFilter.WAITING: RegistrationStatus.WAITING,
            AttendeeFilter.CANCELLED: RegistrationStatus.CANCELLED,
        }[status]
        query = query.where(Registration.status == wanted)
    if search:
        needle = search.lower()  # % and _ are searched for as themselves
        query = query.where(
            or_(
                func.lower(Registration.name).contains(needle, autoescape=True),
                Registration.email.contains(needle, autoescape=True),
                func.lower(Registration.organisation).contains(needle, autoescape=True),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(Registration.id)
        .offset((page - 1) * ATTENDEES_PAGE_SIZE)
        .limit(ATTENDEES_PAGE_SIZE)
    )
    return list(rows), total


def is_attendee(event_id: int, registration_id: int) -> bool:
    registration = db.session.get(Registration, registration_id)
    return registration is not None and registration.event_id == event_id


def set_checked_in(registration_id: int, event_id: int, checked_in: bool, now: datetime) -> None:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id or not registration.is_confirmed:
        raise LookupError("no confirmed registration with this id for this event")
    if not checked_in:
        registration.checked_in_at = None
    elif registration.checked_in_at is None:  # a second tap keeps the time they arrived
        registration.checked_in_at = now
    db.session.commit()


def record_export(
    organiser_id: int | None,
    event_id: int | None,
    columns: list[str],
    rows: int,
    via: str,
    now: datetime,
    *,
    statement_id: int | None = None,
) -> None:
    """Record an export of an event's attendees, or (``statement_id``) of a statement's
    signatures."""
    db.session.add(
        ExportRecord(
            organiser_id=organiser_id,
            event_id=event_id,
            statement_id=statement_id,
            columns=columns,
            rows=rows,
            via=via,
            created_at=now,
        )
    )
    db.session.commit()


def recent_exports(limit: int = 10) -> list[ExportRecord]:
    return list(
        db.session.scalars(
            select(ExportRecord).order_by(ExportRecord.created_at.desc()).limit(limit)
        )
    )


def events_for_organisers(now: datetime) -> list[Event]:
    """Every event, upcoming first (soonest first), then past ones, latest first."""
    upcoming = db.session.scalars(
        select(Event).where(Event.ends_at >= now).order_by(Event.starts_at)
    )
    past = db.session.scalars(
        select(Event).where(Event.ends_at < now).order_by(Event.starts_at.desc()).limit(20)
    )
    return [*upcoming, *past]


@dataclass(frozen=True)
class Chart:
    """Registrations over time as an SVG polyline: points in a 300x80 box, and the total."""

    points: str
    total: int
    first_day: str
    last_day: str


def registrations_chart(event: Event, days: int = 30) -> Chart | None:
    """Cumulative registrations (everyone who ever registered) by day, in the event's zone."""
    moments = list(
        db.session.scalars(
            select(Registration.created_at)
            .where(Registration.event_id == event.id)
            .order_by(Registration.created_at)
        )
    )
    if not moments:
        return None
    local_days = [moment.astimezone(event.zone).date() for moment in moments]
    last = max(local_days)
    first = max(min(local_days), last - timedelta(days=days - 1))
    span = max((last - first).days, 1)
    before = sum(1 for day in local_days if day < first)
    per_day = Counter(day for day in local_days if day >= first)
    running, points = before, []
    for offset in range(span + 1):
        running += per_day.get(first + timedelta(days=offset), 0)
        points.append((offset, running))
    total = len(moments)
    coordinates = " ".join(
        f"{300 * offset / span:.1f},{80 - 76 * count / total:.1f}" for offset, count in points
    )
    return Chart(coordinates, total, first.isoformat(), last.isoformat())

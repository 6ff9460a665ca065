"""The organisers' view of an event's attendees: counts, the searchable list and check-in
(the chart of registrations over time is ``chart``)."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select

from service.db import unit_of_work
from service.events.models import Event, EventFormat
from service.extensions import db
from service.registration import attendance, parts
from service.registration.models import (
    Answer,
    JoinClick,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)

ATTENDEES_PAGE_SIZE = 50


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


@dataclass(frozen=True)
class PartCounts:
    """One part of an event (the room, or online) as organisers count it."""

    mode: RegistrationMode
    confirmed: int
    waiting: int  # for a place in it: its waiting list and those asking to switch to it
    capacity: int | None
    attended: int | None  # None until the event starts

    @property
    def did_not_attend(self) -> int | None:
        return None if self.attended is None else self.confirmed - self.attended


def part_counts(event: Event, now: datetime) -> list[PartCounts]:
    """Each part's counts (one for an online or in-person event), attendance once the event
    has started (``attendance.attended``)."""
    counted = []
    for part in parts.parts_of(event):
        row = db.session.execute(
            select(
                func.count(case((Registration.status == RegistrationStatus.CONFIRMED, 1))),
                func.count(case((Registration.status == RegistrationStatus.WAITING, 1))),
                func.count(case((attendance.attended(event), 1))),
            ).where(Registration.event_id == event.id, parts.in_part(event, part))
        ).one()
        switching = db.session.scalar(
            select(func.count()).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.wants_mode == part,
            )
        )
        counted.append(
            PartCounts(
                part,
                row[0],
                row[1] + (switching or 0),
                parts.capacity_of(event, part),
                row[2] if now >= event.starts_at else None,
            )
        )
    return counted


class AttendeeFilter(enum.StrEnum):
    ALL = "all"
    REGISTERED = "registered"
    WAITING = "waiting"
    CANCELLED = "cancelled"


def find_attendees(
    event_id: int,
    search: str = "",
    status: AttendeeFilter = AttendeeFilter.ALL,
    page: int = 1,
    by_email: bool = True,
    part: RegistrationMode | None = None,
) -> tuple[list[Registration], int]:
    """One page of the event's attendees (name, email unless not ``by_email``, or organisation
    contains ``search``; in ``part`` if given), in registration order, and how many match in
    all."""
    query = select(Registration).where(Registration.event_id == event_id)
    if part is not None:
        query = query.where(Registration.mode == part)
    if status is not AttendeeFilter.ALL:
        wanted = {
            AttendeeFilter.REGISTERED: RegistrationStatus.CONFIRMED,
            AttendeeFilter.WAITING: RegistrationStatus.WAITING,
            AttendeeFilter.CANCELLED: RegistrationStatus.CANCELLED,
        }[status]
        query = query.where(Registration.status == wanted)
    if search:
        needle = search.lower()  # % and _ are searched for as themselves
        matches = [
            func.lower(Registration.name).contains(needle, autoescape=True),
            func.lower(Registration.organisation).contains(needle, autoescape=True),
        ]
        if by_email:
            matches.append(Registration.email.contains(needle, autoescape=True))
        query = query.where(or_(*matches))
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


def set_checked_in(registration_id: int, event_id: int, checked_in: bool, now: datetime) -> bool:
    """Check a confirmed registrant in (or out); whether that changed anything."""
    with unit_of_work():
        registration = db.session.get(Registration, registration_id)
        confirmed_here = registration is not None and registration.event_id == event_id
        if not confirmed_here or not registration.is_confirmed:
            raise LookupError("no confirmed registration with this id for this event")
        if online_at_a_hybrid_event(registration):
            raise LookupError("takes part online: checking in is for the room")
        if checked_in == (registration.checked_in_at is not None):
            return False  # a second tap keeps the time they arrived
        registration.checked_in_at = now if checked_in else None
    return True


def online_at_a_hybrid_event(registration: Registration) -> bool:
    """Someone with an online place at a hybrid event: the door does not check them in."""
    return registration.event.format is EventFormat.HYBRID and registration.takes_part_online


DOOR_LIST_SIZE = 50
UNDO_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class DoorRow:
    """A person as the door sees them: no email."""

    id: int
    name: str
    organisation: str
    status: RegistrationStatus
    checked_in_at: datetime | None
    mode: RegistrationMode | None = None  # at a hybrid event, the part they take

    @property
    def online(self) -> bool:
        return self.mode is RegistrationMode.ONLINE


def folded(text: str) -> str:
    """``text`` for matching as people type: case and accents set aside ("López" ~ "lopez")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def find_at_the_door(
    event: Event, search: str = "", by_email: bool = False
) -> tuple[list[DoorRow], int]:
    """Up to ``DOOR_LIST_SIZE`` people for the door page, by name, and how many match in all.
    With no search, the confirmed only (at a hybrid event, those in the room); with one,
    everyone whose name or organisation (or email, if ``by_email``) contains it, case and
    accents aside, the confirmed in the room first, so a volunteer can tell someone waiting,
    cancelled or taking part online why there is no place.

    Matched in Python: SQLite has no accent folding, and one event's list is small."""
    needle = folded(search)
    hybrid = event.format is EventFormat.HYBRID
    query = select(
        Registration.id,
        Registration.name,
        Registration.organisation,
        Registration.email,
        Registration.status,
        Registration.checked_in_at,
        Registration.mode,
    ).where(Registration.event_id == event.id)
    if not needle:
        query = query.where(Registration.status == RegistrationStatus.CONFIRMED)
        if hybrid:
            query = query.where(Registration.mode == RegistrationMode.IN_PERSON)
    matches = []
    for row in db.session.execute(query):
        haystacks = (row.name, row.organisation, row.email if by_email else "")
        if needle and not any(needle in folded(text) for text in haystacks):
            continue
        matches.append(
            DoorRow(
                row.id,
                row.name,
                row.organisation,
                row.status,
                row.checked_in_at,
                row.mode if hybrid else None,
            )
        )
    matches.sort(
        key=lambda row: (
            row.status is not RegistrationStatus.CONFIRMED or row.online,
            folded(row.name),
            row.id,
        )
    )
    return matches[:DOOR_LIST_SIZE], len(matches)


def door_row(registration_id: int, event_id: int) -> DoorRow | None:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id:
        return None
    return DoorRow(
        registration.id,
        registration.name,
        registration.organisation,
        registration.status,
        registration.checked_in_at,
        registration.mode if registration.event.format is EventFormat.HYBRID else None,
    )


def undo_check_in(
    registration_id: int, event_id: int, checked_in_at: datetime, now: datetime
) -> bool:
    """Undo a check-in the caller made at ``checked_in_at`` (the door keeps the volunteer's
    last one in their session), within ``UNDO_WINDOW`` of it; False, and nothing changed, if
    the window has passed or the person's check-in is no longer that one."""
    if not timedelta(0) <= now - checked_in_at <= UNDO_WINDOW:
        return False
    with unit_of_work():
        registration = db.session.get(Registration, registration_id)
        if (
            registration is None
            or registration.event_id != event_id
            or registration.checked_in_at != checked_in_at
        ):
            return False
        registration.checked_in_at = None
    return True


def answers_of(registration_ids: list[int]) -> dict[int, dict[int, str]]:
    """The answers of these registrations, by registration id, then question id."""
    found: dict[int, dict[int, str]] = {}
    rows = db.session.execute(
        select(Answer.registration_id, Answer.question_id, Answer.value).where(
            Answer.registration_id.in_(registration_ids)
        )
    )
    for registration_id, question_id, value in rows:
        found.setdefault(registration_id, {})[question_id] = value
    return found

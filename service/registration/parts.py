"""The parts of an event people take part in: the room, online, or both for a hybrid event.

Each part has its own places (a hybrid event's ``capacity`` is the room's and its
``online_capacity`` the online places) and its own queue: those waiting for a place in it,
in the order the lock let them in (by id), and the hybrid registrants who asked to switch to
it, keeping their place in the other part meanwhile, by the time they asked
(``Registration.wants_mode_at``).
"""

from __future__ import annotations

import heapq
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true, tuple_

from service.events.models import Event, EventFormat
from service.extensions import db
from service.registration.models import Registration, RegistrationMode, RegistrationStatus

BOTH_PARTS = (RegistrationMode.IN_PERSON, RegistrationMode.ONLINE)


def parts_of(event: Event) -> tuple[RegistrationMode, ...]:
    """The parts of ``event``: both for a hybrid event, else the one it has."""
    if event.format is EventFormat.HYBRID:
        return BOTH_PARTS
    if event.format is EventFormat.ONLINE:
        return (RegistrationMode.ONLINE,)
    return (RegistrationMode.IN_PERSON,)


def other_part(part: RegistrationMode) -> RegistrationMode:
    return BOTH_PARTS[1] if part is BOTH_PARTS[0] else BOTH_PARTS[0]


def part_for(event: Event, chosen: RegistrationMode | None) -> RegistrationMode:
    """The part a registrant takes: their choice at a hybrid event (the room if none was
    given, as before hybrid events had two), the event's own part at any other."""
    parts = parts_of(event)
    return chosen if chosen in parts else parts[0]


def capacity_of(event: Event, part: RegistrationMode) -> int | None:
    """The places of ``part`` (None: no limit)."""
    if event.format is EventFormat.HYBRID and part is RegistrationMode.ONLINE:
        return event.online_capacity
    return event.capacity


def total_capacity(event: Event) -> int | None:
    """All the event's places (None: no limit in some part)."""
    capacities = [capacity_of(event, part) for part in parts_of(event)]
    return None if None in capacities else sum(capacity or 0 for capacity in capacities)


def capacity_field(event: Event, part: RegistrationMode) -> str:
    """The event field (JSON key, form field) that holds ``part``'s places."""
    hybrid_online = event.format is EventFormat.HYBRID and part is RegistrationMode.ONLINE
    return "online_capacity" if hybrid_online else "capacity"


def in_part(event: Event, part: RegistrationMode) -> ColumnElement[bool]:
    """Registrations in ``part``: at a hybrid event by their mode; at any other, all of them."""
    if event.format is EventFormat.HYBRID:
        return Registration.mode == part
    return true()


def confirmed_in(event: Event, part: RegistrationMode) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                in_part(event, part),
            )
        )
        or 0
    )


def places_left(event: Event, part: RegistrationMode) -> int | None:
    capacity = capacity_of(event, part)
    if capacity is None:
        return None
    return max(capacity - confirmed_in(event, part), 0)


def queued_since(registration: Registration) -> datetime:
    """When a person joined the queue they are in: a switcher when they asked, anyone else
    when they registered."""
    return registration.wants_mode_at or registration.created_at


def queue_of(event: Event, part: RegistrationMode, limit: int | None = None) -> list[Registration]:
    """The first ``limit`` (all, if None) of ``part``'s queue: those waiting for a place in it,
    in the order the lock let them in, merged by time with the switchers asking for it, in the
    order they asked."""
    waiting = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITING,
            in_part(event, part),
        )
        .order_by(Registration.id)  # ids are handed out in order under the event's lock
    )
    switching = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.wants_mode == part,
        )
        .order_by(Registration.wants_mode_at, Registration.id)
    )
    if limit is not None:
        waiting, switching = waiting.limit(limit), switching.limit(limit)
    merged = heapq.merge(
        db.session.scalars(waiting), db.session.scalars(switching), key=queued_since
    )
    return list(merged)[:limit]


def queue_position(registration: Registration) -> int:
    """Where ``registration`` stands in the queue it is in (1: next to get a place), counted
    as ``queue_of`` orders it."""
    event = registration.event
    switcher = registration.wants_mode is not None
    part = registration.wants_mode if switcher else registration.mode
    since = queued_since(registration)
    waiting_ahead = (
        Registration.created_at <= since if switcher else Registration.id < registration.id
    )
    switchers_ahead = (
        tuple_(Registration.wants_mode_at, Registration.id) < (since, registration.id)
        if switcher
        else Registration.wants_mode_at < since
    )
    ahead = db.session.scalar(
        select(func.count()).where(
            Registration.event_id == event.id,
            or_(
                and_(
                    Registration.status == RegistrationStatus.WAITING,
                    in_part(event, part),
                    waiting_ahead,
                ),
                and_(
                    Registration.status == RegistrationStatus.CONFIRMED,
                    Registration.wants_mode == part,
                    switchers_ahead,
                ),
            ),
        )
    )
    return (ahead or 0) + 1

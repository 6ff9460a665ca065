"""Registering, waiting, cancelling, promotion and the capacity rule. Public functions are
units of work (``service.db.unit_of_work``): each takes the event's lock first, then counts,
then writes; the unit commits.

The lock: on PostgreSQL the event's row (``SELECT … FOR UPDATE`` with a lock timeout); on
SQLite the database's write lock (``BEGIN IMMEDIATE``, waiting up to the busy timeout). A lock
not had within a few seconds raises ``TryAgain``, never an overbooking.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import OperationalError

from service.access import service as access
from service.access.models import EventRole
from service.db import unit_of_work
from service.events import service as events
from service.events.models import Event, EventFormat, EventStatus
from service.events.schema import EventDataError, parse_events
from service.events.service import PUBLIC_STATUSES
from service.extensions import db
from service.identity import normalise_email
from service.mail.models import MessageKind
from service.registration import parts
from service.registration.models import (
    Answer,
    Registration,
    RegistrationMode,
    RegistrationStatus,
)
from service.registration.needs import Needs, forget_access_needs, registration_fields
from service.registration.notifications import (
    TOLD_FIELDS,
    audience,
    changes_between,
    notify_changes,
    notify_registrants,
    queue_confirmation,
    queue_message,
    registered_and_waiting,
    told_fields,
)


class RegistrationState(enum.StrEnum):
    """Whether an event takes registrations now."""

    OPEN = "open"
    WAITING_LIST = "waiting_list"  # full, but the waiting list is open
    FULL = "full"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"  # the registration window has ended
    STARTED = "started"
    CANCELLED = "cancelled"
    UNAVAILABLE = "unavailable"  # not published


class RegistrationClosed(Exception):
    def __init__(self, state: RegistrationState) -> None:
        super().__init__(state.value)
        self.state = state


class TryAgain(Exception):
    """The event was too busy to take the registration now; nothing was stored."""


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str
    organisation: str = ""
    keep_informed: bool = False
    # How they take part in a hybrid event (None: in the room); others take part as it does.
    mode: RegistrationMode | None = None
    needs: Needs = Needs()  # noqa: RUF009 - frozen: one shared "nothing asked" is safe


# Below this many free places the page says "only a few places left", never the number, so
# one registration does not visibly change the page (and tell who just registered).
FEW_PLACES = 10


@dataclass(frozen=True)
class _Places:
    """Whether registrations are taken now, and how many places are left."""

    state: RegistrationState
    places_left: int | None  # None: no limit; for organisers, never shown on public pages

    @property
    def takes_registrations(self) -> bool:
        return self.state in _TAKES_REGISTRATIONS

    @property
    def few_places_left(self) -> bool:
        return (
            self.state is RegistrationState.OPEN
            and self.places_left is not None
            and self.places_left <= FEW_PLACES
        )


@dataclass(frozen=True)
class PartAvailability(_Places):
    """One part of an event (the room, or online)."""

    mode: RegistrationMode


@dataclass(frozen=True)
class Availability(_Places):
    """The event as a whole (open while any part is) and each of its parts (two for a hybrid
    event, in ``parts.BOTH_PARTS`` order)."""

    parts: tuple[PartAvailability, ...] = ()

    def part(self, mode: RegistrationMode) -> PartAvailability:
        return next(part for part in self.parts if part.mode is mode)


def confirmed_count(event_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        or 0
    )


def availability(event: Event, now: datetime) -> Availability:
    by_part = tuple(
        PartAvailability(_state(event, now, left), left, mode=part)
        for part in parts.parts_of(event)
        for left in [parts.places_left(event, part)]
    )
    lefts = [part.places_left for part in by_part]
    places_left = None if None in lefts else sum(left or 0 for left in lefts)
    # Open while any part has a place; else the waiting list while any part has one.
    states = {part.state for part in by_part}
    state = next((best for best in _BEST_FIRST if best in states), by_part[0].state)
    return Availability(state, places_left, by_part)


_BEST_FIRST = (RegistrationState.OPEN, RegistrationState.WAITING_LIST)


def _state(event: Event, now: datetime, places_left: int | None) -> RegistrationState:
    if event.status is EventStatus.CANCELLED:
        return RegistrationState.CANCELLED
    if event.status is not EventStatus.PUBLISHED:
        return RegistrationState.UNAVAILABLE
    if now >= event.starts_at:
        return RegistrationState.STARTED
    if event.registration_opens_at and now < event.registration_opens_at:
        return RegistrationState.NOT_YET_OPEN
    if event.registration_closes_at and now >= event.registration_closes_at:
        return RegistrationState.CLOSED
    if places_left == 0:
        return RegistrationState.WAITING_LIST if event.waiting_list else RegistrationState.FULL
    return RegistrationState.OPEN


def find_registration(event_id: int, email: str) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event_id, Registration.email == normalise_email(email)
        )
    )


def register(
    slug: str,
    attendee: Attendee,
    language: str,
    now: datetime,
    answers: dict[int, str] | None = None,
) -> int:
    """Register ``attendee`` for the public event ``slug``, or put them on its waiting list,
    and queue their confirmation. Returns the registration's id.

    The same address again (however capitalised) makes no second registration: it re-sends the
    confirmation (at most once every few minutes) and returns the existing registration. When
    the event takes no registrations, a known address is answered with ``RegistrationClosed``
    like any other (its copy goes by mail), so no response tells who had registered. At a
    hybrid event the part chosen decides (``attendee.mode``): a place in it, its waiting
    list, or full, for a known address too.
    Raises ``RegistrationClosed`` (with the state: full, closed…, or unavailable when there
    is no such public event) or ``TryAgain``.
    """
    email = normalise_email(attendee.email)
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            event = _lock_event(Event.slug == slug, Event.status.in_(PUBLIC_STATUSES))
            if event is None:
                raise RegistrationClosed(RegistrationState.UNAVAILABLE)
            part = parts.part_for(event, attendee.mode)
            state = _state(event, now, parts.places_left(event, part))
            existing = find_registration(event.id, email)
            if existing is not None and not existing.is_cancelled:
                if state not in _NO_MORE_COPIES:
                    queue_confirmation(existing, now, resend=True)
                registration_id = existing.id
            elif state in _TAKES_REGISTRATIONS:
                if existing is not None:  # cancelled: registering again joins the back
                    db.session.delete(existing)
                    db.session.flush()
                registration_id = _add_registration(
                    event, attendee, email, language, part, state, now
                )
                _add_answers(registration_id, answers or {})
    except OperationalError as error:
        raise TryAgain from error
    if state not in _TAKES_REGISTRATIONS:
        # Registered or not, the answer is the same "closed": only the mail differs.
        raise RegistrationClosed(state)
    return registration_id


# A registrant who sends the form again is mailed their confirmation again, but not once the
# event is cancelled or under way.
_NO_MORE_COPIES = frozenset({RegistrationState.CANCELLED, RegistrationState.STARTED})
_TAKES_REGISTRATIONS = frozenset({RegistrationState.OPEN, RegistrationState.WAITING_LIST})


def _add_registration(
    event: Event,
    attendee: Attendee,
    email: str,
    language: str,
    part: RegistrationMode,
    state: RegistrationState,
    now: datetime,
) -> int:
    registration = Registration(
        event_id=event.id,
        mode=part,
        email=email,
        name=attendee.name,
        organisation=attendee.organisation,
        language=language,
        keep_informed=attendee.keep_informed,
        keep_informed_at=now if attendee.keep_informed else None,
        status=(
            RegistrationStatus.CONFIRMED
            if state is RegistrationState.OPEN
            else RegistrationStatus.WAITING
        ),
        created_at=now,
        **registration_fields(event, attendee.needs),
    )
    db.session.add(registration)
    db.session.flush()
    queue_confirmation(registration, now)
    return registration.id


def _add_answers(registration_id: int, answers: dict[int, str]) -> None:
    db.session.add_all(
        Answer(registration_id=registration_id, question_id=question, value=value)
        for question, value in answers.items()
    )
    db.session.flush()


def cancel_registration(registration_id: int, now: datetime) -> Registration | None:
    """Cancel a registration (or leave the waiting list); a freed place goes straight to the
    first person waiting, who is told at once. Cancelling twice changes nothing."""
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            event_id = db.session.scalar(
                select(Registration.event_id).where(Registration.id == registration_id)
            )
            event = _lock_event(Event.id == event_id) if event_id is not None else None
            registration = db.session.get(Registration, registration_id, populate_existing=True)
            if event is None or registration is None or registration.is_cancelled:
                return registration
            freed_place = registration.is_confirmed
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = now
            _forget_switch(registration)
            forget_access_needs(registration)
            db.session.flush()
            queue_message(
                registration,
                "cancelled",
                MessageKind.CONFIRMATION,
                now,
                f"cancelled:{registration.id}:{now.isoformat()}",
            )
            if freed_place:
                promote_waitlist(event, now)
        return registration
    except OperationalError as error:
        raise TryAgain from error


def promote_waitlist(event: Event, now: datetime) -> int:
    """Fill each part's free places from its queue (``parts.queue_of``), first come first
    served, and mail each person given a place (with their calendar file). A switcher who
    gets their place frees one in the part they leave, so the parts are filled in turn until
    neither moves; then switchers asking for each other's parts trade places. The caller holds
    the event's lock, inside its unit of work. Returns how many were given a place."""
    given = 0
    moved = True
    while moved:
        moved = False
        for part in parts.parts_of(event):
            free = parts.places_left(event, part)
            if free is not None and free <= 0:
                continue
            for registration in parts.queue_of(event, part, free):
                _give_place(registration, part, now)
                given += 1
                moved = True
    return given + _trade_places(event, now)


def _give_place(registration: Registration, part: RegistrationMode, now: datetime) -> None:
    """A place in ``part`` for someone waiting (mailed "promoted") or a switcher ("switched")."""
    if registration.is_waiting:
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = now
        template = "promoted"
    else:
        template = "switched"
    registration.mode = part
    _forget_switch(registration)
    db.session.flush()
    queue_message(
        registration,
        template,
        MessageKind.CONFIRMATION,
        now,
        f"{template}:{registration.id}:{now.isoformat()}",
        calendar=True,
    )


def _trade_places(event: Event, now: datetime) -> int:
    """Switchers from the room and switchers from online trade places, the first of each in
    the order they asked: nobody's place is taken and no part holds more."""
    if event.format is not EventFormat.HYBRID:
        return 0
    to_online, to_room = (
        [queued for queued in parts.queue_of(event, part) if queued.is_confirmed]
        for part in (RegistrationMode.ONLINE, RegistrationMode.IN_PERSON)
    )
    for from_room, from_online in zip(to_online, to_room, strict=False):
        _give_place(from_room, RegistrationMode.ONLINE, now)
        _give_place(from_online, RegistrationMode.IN_PERSON, now)
    return 2 * min(len(to_online), len(to_room))


def _forget_switch(registration: Registration) -> None:
    registration.wants_mode = None
    registration.wants_mode_at = None


class Switch(enum.StrEnum):
    """What asking to take part the other way did."""

    SWITCHED = "switched"  # a place in the other part was free: it is theirs
    QUEUED = "queued"  # the other part is full: on its waiting list, keeping their place
    STAYED = "stayed"  # they withdrew their request, and keep the place they have
    FULL = "full"  # no free place there, and no waiting list (or no place to keep): no change
    NOT_POSSIBLE = "not_possible"  # not a hybrid event, cancelled, ended, or no such request


def switch_part(registration_id: int, now: datetime) -> Switch:
    """Take part the other way at a hybrid event: in the room instead of online, or online
    instead of in the room. With a place free in the other part, the person has it at once
    and the place they leave goes to the first in its queue (``promote_waitlist``); with the
    other part full, they join its queue keeping their place until a place frees
    (``Registration.wants_mode``). Someone waiting with no place moves only into a free
    place. Each outcome is mailed: the confirmation in the new part with its calendar file,
    or their place in the queue. One unit of work; raises ``TryAgain``."""
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            found = _lock_registration(registration_id)
            if found is None or not may_switch(*found, now):
                return Switch.NOT_POSSIBLE  # an asker already queued withdraws (stay_in_part)
            event, registration = found
            target = parts.other_part(registration.mode)
            free = parts.places_left(event, target)
            if free is None or free > 0:
                _give_place(registration, target, now)
                promote_waitlist(event, now)
                return Switch.SWITCHED
            if not (event.waiting_list and registration.is_confirmed):
                return Switch.FULL
            registration.wants_mode = target
            registration.wants_mode_at = now
            db.session.flush()
            promote_waitlist(event, now)  # someone may want this person's place: they trade
            if registration.mode is target:
                return Switch.SWITCHED
            queue_message(
                registration,
                "switch_queued",
                MessageKind.WAITING_LIST,
                now,
                f"switch_queued:{registration.id}:{now.isoformat()}",
            )
            return Switch.QUEUED
    except OperationalError as error:
        raise TryAgain from error


def stay_in_part(registration_id: int, now: datetime) -> Switch:
    """Withdraw a request to switch (``switch_part``): the person leaves the other part's
    queue and keeps the place they have. One unit of work; raises ``TryAgain``."""
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            found = _lock_registration(registration_id)
            if found is None or found[1].wants_mode is None:
                return Switch.NOT_POSSIBLE
            _forget_switch(found[1])
            return Switch.STAYED
    except OperationalError as error:
        raise TryAgain from error


def _lock_registration(registration_id: int) -> tuple[Event, Registration] | None:
    """Lock the registration's event, then read the registration as it is under the lock."""
    event_id = db.session.scalar(
        select(Registration.event_id).where(Registration.id == registration_id)
    )
    event = _lock_event(Event.id == event_id) if event_id is not None else None
    registration = db.session.get(Registration, registration_id, populate_existing=True)
    if event is None or registration is None:
        return None
    return event, registration


def may_switch(event: Event, registration: Registration, now: datetime) -> bool:
    """Whether the person may ask to take part the other way: at a hybrid event, published,
    not over, with a registration that stands and no request already made."""
    return (
        event.format is EventFormat.HYBRID
        and event.status is EventStatus.PUBLISHED
        and not registration.is_cancelled
        and registration.wants_mode is None
        and now < event.ends_at
    )


def fit_capacity(event: Event, now: datetime) -> int:
    """Capacity is never exceeded, in either part.

    Called, under the event's lock, whenever an event's capacity or format may have changed.
    First everyone takes part as the event now lets them (``_settle_parts``: at an online or
    in-person event, as it does; a hybrid event keeps each person's part, so an event that
    becomes hybrid keeps its people where they were). Then a part's capacity below the number
    already confirmed in it is refused (``EventDataError`` on its field, ``capacity`` or
    ``online_capacity``: the caller's unit of work rolls back, nothing is saved); places a
    raised or removed limit frees go at once to that part's queue, first come first served
    (``promote_waitlist``), except on a cancelled event. Registering (``availability``),
    switching and cancelling count under the same lock. Returns how many were promoted."""
    _settle_parts(event)
    for part in parts.parts_of(event):
        capacity = parts.capacity_of(event, part)
        confirmed = parts.confirmed_in(event, part)
        if capacity is not None and capacity < confirmed:
            field = parts.capacity_field(event, part)
            raise EventDataError(
                [f"{field} {capacity} is below the {confirmed} confirmed"],
                {field: [_too_many_message(event, part, confirmed)]},
            )
    if event.status is EventStatus.CANCELLED:
        return 0
    return promote_waitlist(event, now)


def _too_many_message(event: Event, part: RegistrationMode, confirmed: int) -> str:
    if event.format is not EventFormat.HYBRID:
        return ngettext(
            "%(num)d person is already confirmed; the capacity cannot go below %(num)d.",
            "%(num)d people are already confirmed; the capacity cannot go below %(num)d.",
            confirmed,
        )
    if part is RegistrationMode.ONLINE:
        return ngettext(
            "%(num)d person is already confirmed online; the online places cannot go below "
            "%(num)d.",
            "%(num)d people are already confirmed online; the online places cannot go below "
            "%(num)d.",
            confirmed,
        )
    return ngettext(
        "%(num)d person is already confirmed in the room; its places cannot go below %(num)d.",
        "%(num)d people are already confirmed in the room; its places cannot go below %(num)d.",
        confirmed,
    )


def _settle_parts(event: Event) -> None:
    """At an online or in-person event everyone takes part as it does, and nobody waits to
    switch: an event that stops being hybrid brings its people into its one part (where its
    capacity then holds them all, or the change is refused)."""
    if event.format is EventFormat.HYBRID:
        return
    [part] = parts.parts_of(event)
    db.session.execute(
        update(Registration)
        .where(
            Registration.event_id == event.id,
            (Registration.mode != part) | Registration.wants_mode.is_not(None),
        )
        .values(mode=part, wants_mode=None, wants_mode_at=None)
    )


@dataclass(frozen=True)
class SavedEvent:
    event: Event
    changed: set[str]  # which of ``events.service.NOTIFIABLE_FIELDS`` changed
    told: int  # registrants queued a message about the change
    promoted: int  # people the new capacity took off the waiting list


@dataclass(frozen=True)
class PendingChanges:
    """What saving the form would change that registrants hear about, and who would hear."""

    changes: list[dict[str, str]]  # as ``notifications.changes_between`` gives them
    confirmed: int
    waiting: int

    @property
    def told(self) -> int:
        return self.confirmed + self.waiting


def pending_changes(event: Event, document: dict[str, Any]) -> PendingChanges:
    """What ``update_event`` would tell the registrants of the published ``event`` if
    ``document`` were saved (nothing is written). Raises ``EventDataError``."""
    if event.status is not EventStatus.PUBLISHED:
        return PendingChanges([], 0, 0)
    [data] = parse_events(document)
    changes = changes_between(
        told_fields(event), {field: getattr(data, field) for field in TOLD_FIELDS}
    )
    # A new joining link matters if the event will have an online part to join.
    online = data.format is not EventFormat.IN_PERSON
    confirmed, waiting = audience(event, changes, online=online) if changes else (0, 0)
    return PendingChanges(changes, confirmed, waiting)


def update_event(
    original_slug: str | None,
    document: dict[str, Any],
    notify: bool,
    now: datetime,
    *,
    created_by: int | None = None,
    person_ids: Sequence[int | None] | None = None,
) -> SavedEvent:
    """Save the organisers' event form (``original_slug`` None creates the event, and
    ``created_by``, an organiser's id, becomes its manager; ``person_ids`` as
    ``events.save_event``), hold it to its capacity
    (``fit_capacity``) and, when ``notify`` and a field registrants care about changed on a
    published event, tell each of them what changed, old and new: one unit of work under the
    event's lock. Raises ``EventDataError`` (by field; nothing saved) or ``TryAgain``."""
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            before = None
            if original_slug is not None:
                locked = _lock_event(Event.slug == original_slug)
                before = told_fields(locked) if locked is not None else None
            event, changed = events.save_event(original_slug, document, person_ids)
            if original_slug is None and created_by is not None:
                access.grant_event_role(created_by, event.id, EventRole.MANAGER)
            promoted = fit_capacity(event, now)
            told = (
                notify_changes(event, changes_between(before, told_fields(event)), now)
                if notify and before and changed and event.status is EventStatus.PUBLISHED
                else 0
            )
    except OperationalError as error:
        raise TryAgain from error
    return SavedEvent(event, changed, told, promoted)


def import_events(document: Any, now: datetime) -> list[tuple[Event, bool]]:
    """``flask events import``: ``events.import_events`` with each event held to its
    capacity (``fit_capacity``), all in one unit of work. Raises ``EventDataError``."""
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        results = events.import_events(document)
        for event, _created in results:
            fit_capacity(event, now)
    return results


class ReinstateInstead(Exception):
    """A cancelled event is reinstated (``reinstate_event``), never simply published."""


def change_status(event: Event, status: EventStatus, now: datetime, *, message: str = "") -> int:
    """Publish, unpublish or cancel ``event``; cancelling a published event tells everyone
    registered or waiting (with the organisers' ``message``, Markdown), in the same unit of
    work. Returns how many were told; raises ``ReinstateInstead`` for publishing a cancelled
    event, or ``TryAgain``."""
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            events.lock_event(event)
            if status is EventStatus.PUBLISHED and event.is_cancelled:
                raise ReinstateInstead
            was_published = event.status is EventStatus.PUBLISHED
            events.set_status(event, status)
            if status is EventStatus.CANCELLED and was_published:
                return notify_registrants(event, "event_cancelled", now, message=message)
    except OperationalError as error:
        raise TryAgain from error
    return 0


def reinstate_event(event: Event, tell: bool, now: datetime) -> int | None:
    """Publish the cancelled ``event`` again (its calendar files go back to confirmed, with a
    higher sequence); the registrations kept through the cancellation stand as they were.
    When ``tell``, everyone registered or waiting, who was told of the cancellation, hears it
    is back on. Returns how many were told, None when the event was not cancelled; raises
    ``TryAgain``."""
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            events.lock_event(event)
            if not event.is_cancelled:
                return None
            events.set_status(event, EventStatus.PUBLISHED)
            return notify_registrants(event, "event_reinstated", now) if tell else 0
    except OperationalError as error:
        raise TryAgain from error


def people_to_tell(event: Event) -> tuple[int, int]:
    """How many are registered and how many waiting: who hears of a cancellation or a
    reinstatement."""
    return registered_and_waiting(event)


def _lock_event(*where: ColumnElement[bool]) -> Event | None:
    """Lock the event's row (PostgreSQL) before reading anything that decides a place; on
    SQLite the unit of work already holds the database's write lock."""
    return db.session.scalar(
        select(Event).where(*where).with_for_update().execution_options(populate_existing=True)
    )

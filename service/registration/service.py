"""Registering, waiting, cancelling, promotion and the capacity rule. Public functions are
units of work (``service.db.unit_of_work``): each takes the event's lock first, then counts,
then writes; the unit commits.

The lock: on PostgreSQL the event's row (``SELECT … FOR UPDATE`` with a lock timeout); on
SQLite the database's write lock (``BEGIN IMMEDIATE``, waiting up to the busy timeout). A lock
not had within a few seconds raises ``TryAgain``, never an overbooking.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import ColumnElement, func, select
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
from service.registration.models import Answer, Registration, RegistrationStatus
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
    needs: Needs = Needs()  # noqa: RUF009 - frozen: one shared "nothing asked" is safe


# Below this many free places the page says "only a few places left", never the number, so
# one registration does not visibly change the page (and tell who just registered).
FEW_PLACES = 10


@dataclass(frozen=True)
class Availability:
    state: RegistrationState
    places_left: int | None  # None: no limit; for organisers, never shown on public pages

    @property
    def takes_registrations(self) -> bool:
        return self.state in (RegistrationState.OPEN, RegistrationState.WAITING_LIST)

    @property
    def few_places_left(self) -> bool:
        return (
            self.state is RegistrationState.OPEN
            and self.places_left is not None
            and self.places_left <= FEW_PLACES
        )


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
    places_left = _places_left(event)
    return Availability(_state(event, now, places_left), places_left)


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
    like any other (its copy goes by mail), so no response tells who had registered.
    Raises ``RegistrationClosed`` (with the state: full, closed…, or unavailable when there
    is no such public event) or ``TryAgain``.
    """
    email = normalise_email(attendee.email)
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            event = _lock_event(Event.slug == slug, Event.status.in_(PUBLIC_STATUSES))
            if event is None:
                raise RegistrationClosed(RegistrationState.UNAVAILABLE)
            state = availability(event, now).state
            existing = find_registration(event.id, email)
            if existing is not None and not existing.is_cancelled:
                if state not in _NO_MORE_COPIES:
                    queue_confirmation(existing, now, resend=True)
                registration_id = existing.id
            elif state in _TAKES_REGISTRATIONS:
                if existing is not None:  # cancelled: registering again joins the back
                    db.session.delete(existing)
                    db.session.flush()
                registration_id = _add_registration(event, attendee, email, language, state, now)
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
    state: RegistrationState,
    now: datetime,
) -> int:
    registration = Registration(
        event_id=event.id,
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
    """Fill the event's free places from its waiting list, first come first served, and mail
    each person promoted (with their calendar file). The caller holds the event's lock, inside
    its unit of work. Returns how many were promoted."""
    free = _places_left(event)
    if free is not None and free <= 0:
        return 0
    query = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITING,
        )
        .order_by(Registration.id)  # ids are handed out in order under the event's lock
    )
    waiting = list(db.session.scalars(query if free is None else query.limit(free)))
    for registration in waiting:
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = now
        db.session.flush()
        queue_message(
            registration,
            "promoted",
            MessageKind.CONFIRMATION,
            now,
            f"promoted:{registration.id}:{now.isoformat()}",
            calendar=True,
        )
    return len(waiting)


def fit_capacity(event: Event, now: datetime) -> int:
    """Capacity is never exceeded.

    Called, under the event's lock, whenever an event's capacity may have changed: a
    capacity below the number already confirmed is refused (``EventDataError`` on the
    ``capacity`` field: the caller's unit of work rolls back, nothing is saved); places a
    raised or removed limit frees go at once to the waiting list, first come first served
    (``promote_waitlist``), except on a cancelled event. Registering (``availability``) and
    cancelling count under the same lock. Returns how many were promoted."""
    if event.capacity is not None:
        confirmed = confirmed_count(event.id)
        if event.capacity < confirmed:
            message = ngettext(
                "%(num)d person is already confirmed; the capacity cannot go below %(num)d.",
                "%(num)d people are already confirmed; the capacity cannot go below %(num)d.",
                confirmed,
            )
            raise EventDataError(
                [f"capacity {event.capacity} is below the {confirmed} confirmed"],
                {"capacity": [message]},
            )
    if event.status is EventStatus.CANCELLED:
        return 0
    return promote_waitlist(event, now)


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
) -> SavedEvent:
    """Save the organisers' event form (``original_slug`` None creates the event, and
    ``created_by``, an organiser's id, becomes its manager), hold it to its capacity
    (``fit_capacity``) and, when ``notify`` and a field registrants care about changed on a
    published event, tell each of them what changed, old and new: one unit of work under the
    event's lock. Raises ``EventDataError`` (by field; nothing saved) or ``TryAgain``."""
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            before = None
            if original_slug is not None:
                locked = _lock_event(Event.slug == original_slug)
                before = told_fields(locked) if locked is not None else None
            event, changed = events.save_event(original_slug, document)
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


def _places_left(event: Event) -> int | None:
    if event.capacity is None:
        return None
    return max(event.capacity - confirmed_count(event.id), 0)


def _lock_event(*where: ColumnElement[bool]) -> Event | None:
    """Lock the event's row (PostgreSQL) before reading anything that decides a place; on
    SQLite the unit of work already holds the database's write lock."""
    return db.session.scalar(
        select(Event).where(*where).with_for_update().execution_options(populate_existing=True)
    )

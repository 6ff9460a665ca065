"""Registering, waiting, cancelling and joining. Public functions are units of work: each takes
the event's lock first, then counts, then writes, then commits.

The lock: on PostgreSQL the event's row (``SELECT … FOR UPDATE`` with a lock timeout); on
SQLite the database's write lock (``BEGIN IMMEDIATE``, waiting up to the busy timeout). A lock
not had within a few seconds raises ``TryAgain``, never an overbooking.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from service.db import begin_writing
from service.events.ics import event_calendar
from service.events.models import Event, EventStatus
from service.events.service import PUBLIC_STATUSES
from service.events.timing import LazyTiming
from service.extensions import db
from service.identity import new_link_secret, normalise_email
from service.mail import service as mail
from service.mail.models import MessageKind
from service.mail.service import Attachment
from service.registration.models import (
    Answer,
    JoinClick,
    Registration,
    RegistrationStatus,
)
from service.security import read_link, sign_link
from service.urls import absolute_url

MANAGE, JOIN = "manage", "join"


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


class EventTerms(Protocol):
    """What decides whether an event takes a registration: an ``Event``, or these columns."""

    id: int
    status: EventStatus
    starts_at: datetime
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    capacity: int | None
    waiting_list: bool


def availability(event: EventTerms, now: datetime) -> Availability:
    places_left = _places_left(event)
    return Availability(_state(event, now, places_left), places_left)


def _state(event: EventTerms, now: datetime, places_left: int | None) -> RegistrationState:
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

    Everything that needs no lock is prepared before taking it, and the locked part is a few
    prepared Core statements (no ORM objects), so other workers wait as little as possible.
    """
    email = normalise_email(attendee.email)
    values = {
        "email": email,
        "name": attendee.name,
        "organisation": attendee.organisation,
        "language": language,
        "keep_informed": attendee.keep_informed,
        "keep_informed_at": now if attendee.keep_informed else None,
        "link_secret": new_link_secret(),
        "created_at": now,
    }
    try:
        begin_writing(db.session, current_app.config["LOCK_WAIT_SECONDS"])
        connection = db.session.connection()
        event = connection.execute(_LOCK_PUBLIC_EVENT, {"slug": slug}).one_or_none()
        if event is None:
            raise RegistrationClosed(RegistrationState.UNAVAILABLE)
        now_available = availability(event, now)
        values["event_id"] = event.id
        values["status"] = (
            RegistrationStatus.CONFIRMED
            if now_available.state is RegistrationState.OPEN
            else RegistrationStatus.WAITING
        )
        # A new address (the usual case) is one statement: the insert gives way to a row the
        # address has already, which is then read.
        registration = (
            connection.execute(
                _INSERT_NEW_REGISTRATION[connection.dialect.name], values
            ).one_or_none()
            if now_available.takes_registrations
            else None
        )
        if registration is None:
            existing = connection.execute(
                _REGISTRANT, {"event_id": event.id, "email": email}
            ).one_or_none()
            registered = (
                existing is not None and existing.status is not RegistrationStatus.CANCELLED
            )
            if registered and now_available.state not in _NO_MORE_COPIES:
                _queue_confirmation(existing, now, resend=True)
            if not now_available.takes_registrations:
                # Registered or not, the answer is the same "closed": only the mail differs.
                db.session.commit()
                raise RegistrationClosed(now_available.state)
            if registered:
                db.session.commit()
                return existing.id
            # Cancelled: registering again joins the back of the queue.
            connection.execute(_DELETE_REGISTRATION, {"id": existing.id})
            registration = connection.execute(_INSERT_REGISTRATION, values).one()
        if answers:
            connection.execute(
                _INSERT_ANSWER,
                [
                    {"registration_id": registration.id, "question_id": question, "value": value}
                    for question, value in answers.items()
                ],
            )
        _queue_confirmation(registration, now)
        db.session.commit()
        return registration.id
    except OperationalError as error:
        db.session.rollback()
        raise TryAgain from error
    except RegistrationClosed:
        db.session.rollback()
        raise


# A registrant who sends the form again is mailed their confirmation again, but not once the
# event is cancelled or under way.
_NO_MORE_COPIES = frozenset({RegistrationState.CANCELLED, RegistrationState.STARTED})


class Registrant(Protocol):
    """What queueing a registration's message needs: a ``Registration``, or these columns."""

    id: int
    event_id: int
    email: str
    name: str
    language: str
    status: RegistrationStatus
    created_at: datetime


_EVENTS, _REGISTRATIONS = Event.__table__, Registration.__table__
# What decides a place, read under the lock: no more of the event than that.
_LOCK_PUBLIC_EVENT = (
    select(
        _EVENTS.c.id,
        _EVENTS.c.status,
        _EVENTS.c.starts_at,
        _EVENTS.c.registration_opens_at,
        _EVENTS.c.registration_closes_at,
        _EVENTS.c.capacity,
        _EVENTS.c.waiting_list,
    )
    .where(_EVENTS.c.slug == bindparam("slug"), _EVENTS.c.status.in_(PUBLIC_STATUSES))
    .with_for_update()
)
# A registrant's columns: enough to queue their messages (``Registrant``).
_REGISTRANT_COLUMNS = (
    _REGISTRATIONS.c.id,
    _REGISTRATIONS.c.event_id,
    _REGISTRATIONS.c.email,
    _REGISTRATIONS.c.name,
    _REGISTRATIONS.c.language,
    _REGISTRATIONS.c.status,
    _REGISTRATIONS.c.created_at,
)
_REGISTRANT = select(*_REGISTRANT_COLUMNS).where(
    _REGISTRATIONS.c.event_id == bindparam("event_id"),
    _REGISTRATIONS.c.email == bindparam("email"),
)
_INSERT_REGISTRATION = insert(_REGISTRATIONS).returning(*_REGISTRANT_COLUMNS)
_INSERT_NEW_REGISTRATION = {
    name: insert(_REGISTRATIONS)
    .on_conflict_do_nothing(index_elements=["event_id", "email"])
    .returning(*_REGISTRANT_COLUMNS)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_DELETE_REGISTRATION = delete(_REGISTRATIONS).where(_REGISTRATIONS.c.id == bindparam("id"))
_INSERT_ANSWER = insert(Answer.__table__)


def cancel_registration(registration_id: int, now: datetime) -> Registration | None:
    """Cancel a registration (or leave the waiting list); a freed place goes straight to the
    first person waiting, who is told at once. Cancelling twice changes nothing."""
    try:
        begin_writing(db.session, current_app.config["LOCK_WAIT_SECONDS"])
        registration = db.session.get(Registration, registration_id)
        if registration is None:
            db.session.rollback()
            return None
        _lock_event(Event.id == registration.event_id)
        db.session.refresh(registration)
        if registration.is_cancelled:
            db.session.rollback()
            return registration
        freed_place = registration.is_confirmed
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        db.session.flush()
        _queue_message(
            registration,
            "cancelled",
            MessageKind.CONFIRMATION,
            now,
            f"cancelled:{registration.id}:{now.isoformat()}",
        )
        if freed_place:
            _promote_waiting(registration.event, now)
        db.session.commit()
        return registration
    except OperationalError as error:
        db.session.rollback()
        raise TryAgain from error


def _promote_waiting(event: Event, now: datetime) -> None:
    """Fill free places from the waiting list, first come first served."""
    free = _places_left(event)
    if free is not None and free <= 0:
        return
    waiting = db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITING,
        )
        .order_by(Registration.id)  # ids are handed out in order under the event's lock
        .limit(free)
    )
    for registration in waiting:
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = now
        db.session.flush()
        _queue_message(
            registration,
            "promoted",
            MessageKind.CONFIRMATION,
            now,
            f"promoted:{registration.id}:{now.isoformat()}",
            calendar=True,
        )


def _places_left(event: EventTerms) -> int | None:
    if event.capacity is None:
        return None
    return max(event.capacity - confirmed_count(event.id), 0)


def _lock_event(*where: ColumnElement[bool]) -> Event:
    """Lock the event's row (PostgreSQL) before reading anything that decides a place; on
    SQLite the caller's ``begin_writing`` already holds the database's write lock."""
    event = db.session.scalar(
        select(Event).where(*where).with_for_update().execution_options(populate_existing=True)
    )
    if event is None:
        raise RegistrationClosed(RegistrationState.UNAVAILABLE)
    return event


def _queue_confirmation(registration: Registrant, now: datetime, *, resend: bool = False) -> None:
    confirmed = registration.status is RegistrationStatus.CONFIRMED
    template = "confirmation" if confirmed else "waiting_list"
    kind = MessageKind.CONFIRMATION if confirmed else MessageKind.WAITING_LIST
    key = f"{template}:{registration.id}:{registration.created_at.isoformat()}"
    if resend:  # one copy per few minutes, however often the form is sent
        wait = timedelta(minutes=int(current_app.config["CONFIRMATION_RESEND_MINUTES"]))
        key += ":again:"
        last = mail.last_queued(key)  # the last fresh copy, not the first confirmation
        if last is not None and now - last < wait:
            return
        key += now.isoformat()
    _queue_message(registration, template, kind, now, key, calendar=confirmed)


def _queue_message(
    registration: Registrant,
    template: str,
    kind: MessageKind,
    now: datetime,
    dedupe_key: str,
    *,
    calendar: bool = False,
) -> bool:
    return mail.queue_message(
        kind=kind,
        dedupe_key=dedupe_key,
        to=registration.email,
        name=registration.name,
        language=registration.language,
        template=f"registration/{template}",
        # The event too: its retention finds the message by it, and the cancellation notice
        # is written from it alone.
        params={
            "registration_id": registration.id,
            "event_id": registration.event_id,
            "calendar": calendar,
        },
        now=now,
    )


def resend_confirmation(registration_id: int, now: datetime) -> bool:
    """Send the person their confirmation (or waiting-list message) again, for organisers."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.is_cancelled:
        return False
    _queue_confirmation(registration, now, resend=True)
    db.session.commit()
    return True


def notify_registrants(event: Event, template: str, now: datetime) -> int:
    """Tell everyone registered or waiting about a change to the event (``event_changed``)
    or its cancellation (``event_cancelled``): one message each, once per version of the
    event. Commits; returns how many were queued."""
    queued = 0
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Registration.id)
    )
    for registration in registrations:
        queued += _queue_message(
            registration,
            template,
            MessageKind.EVENT_UPDATE,
            now,
            f"{template}:{event.id}:{event.sequence}:{registration.id}",
            calendar=registration.is_confirmed,
        )
    db.session.commit()
    return queued


@mail.message_builder(
    "registration/confirmation",
    "registration/waiting_list",
    "registration/promoted",
    "registration/event_changed",
    "registration/event_cancelled",
)
def registration_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """The person's registration as it is when the message goes out, and the calendar file."""
    registration = db.session.get(Registration, params["registration_id"])
    if registration is None:
        raise LookupError(f"registration {params['registration_id']} no longer exists")
    attachments = []
    if params.get("calendar"):
        event = registration.event
        key = ("calendar", event.id, event.sequence, str(get_locale()))
        if key not in memo:
            memo[key] = event_calendar(event, event.updated_at).decode()
        attachments.append(
            Attachment(f"{event.slug}.ics", "text/calendar; method=PUBLISH", memo[key])
        )
    return mail.MessageContent(message_context(registration), attachments)


@mail.message_builder("registration/cancelled")
def cancellation_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """The cancellation notice, from the event alone: registering again deletes the cancelled
    registration, and the notice must still reach the person."""
    event = db.session.get(Event, params["event_id"]) if "event_id" in params else None
    if event is None:  # queued before messages named their event
        return registration_content(params, memo)
    return mail.MessageContent(
        {
            "event": event,
            "timing": LazyTiming(event),
            "event_url": absolute_url("events.show_event", slug=event.slug),
        }
    )


def message_context(registration: Registration) -> dict[str, Any]:
    """What every registration email needs: the event, the person's own links, the position."""
    event = registration.event
    return {
        "event": event,
        "timing": LazyTiming(event),
        "registration": registration,
        "event_url": absolute_url("events.show_event", slug=event.slug),
        "manage_url": manage_url(registration),
        "join_url": join_url(registration) if event.is_online else "",
        "waiting_position": waiting_position(registration) if registration.is_waiting else None,
    }


def waiting_position(registration: Registration) -> int:
    ahead = (
        db.session.scalar(
            select(func.count()).where(
                Registration.event_id == registration.event_id,
                Registration.status == RegistrationStatus.WAITING,
                Registration.id < registration.id,  # the order the lock let them in
            )
        )
        or 0
    )
    return ahead + 1


def manage_url(registration: Registration) -> str:
    token = sign_link(MANAGE, [registration.id, registration.link_secret])
    return absolute_url("registration.manage", token=token)


def join_url(registration: Registration) -> str:
    return join_link(registration.id, registration.link_secret)


def join_link(registration_id: int, link_secret: str) -> str:
    """The personal joining link: opens the meeting only for this confirmed registration."""
    return absolute_url("registration.join", token=sign_link(JOIN, [registration_id, link_secret]))


def registration_from_link(purpose: str, token: str, now: datetime) -> Registration | None:
    """The registration a manage or join link belongs to; None if forged, revoked or expired."""
    payload = read_link(purpose, token)
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        return None
    registration_id, secret = payload
    registration = db.session.get(Registration, registration_id)
    if registration is None or not hmac.compare_digest(
        str(secret).encode(), registration.link_secret.encode()
    ):
        return None
    expires = registration.event.ends_at + timedelta(
        days=int(current_app.config["MANAGE_LINK_DAYS"])
    )
    return registration if now < expires else None


class JoinDecision(enum.StrEnum):
    ENTER = "enter"
    TOO_EARLY = "too_early"
    ENDED = "ended"
    NOT_CONFIRMED = "not_confirmed"
    NO_MEETING = "no_meeting"  # not an online event, or no joining link yet


def use_join_link(registration: Registration, now: datetime) -> JoinDecision:
    """Decide whether the personal link opens the meeting now; each entry is recorded."""
    event = registration.event
    if not registration.is_confirmed or event.status is not EventStatus.PUBLISHED:
        return JoinDecision.NOT_CONFIRMED
    if not (event.is_online and event.join_url):
        return JoinDecision.NO_MEETING
    if now >= event.ends_at:
        return JoinDecision.ENDED
    opens = event.starts_at - timedelta(minutes=int(current_app.config["JOIN_OPENS_MINUTES"]))
    if now < opens:
        return JoinDecision.TOO_EARLY
    db.session.add(JoinClick(registration_id=registration.id, clicked_at=now))
    db.session.commit()
    return JoinDecision.ENTER

"""What registrants are mailed: queueing their messages (outbox rows, inside the caller's unit
of work) and the content each message is rendered from when it goes out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import func, select

from service.db import unit_of_work
from service.events.ics import event_calendar
from service.events.models import Event
from service.events.timing import LazyTiming
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind
from service.mail.service import Attachment
from service.registration.checkin import QR_CONTENT_ID, checkin_url, qr_attachment
from service.registration.links import join_url, manage_url
from service.registration.models import Registration, RegistrationStatus
from service.urls import absolute_url


def queue_confirmation(registration: Registration, now: datetime, *, resend: bool = False) -> None:
    """Queue the confirmation (or waiting-list message) in the caller's unit of work;
    ``resend``: a fresh copy, at most one every ``CONFIRMATION_RESEND_MINUTES``."""
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
    queue_message(registration, template, kind, now, key, calendar=confirmed)


def queue_message(
    registration: Registration,
    template: str,
    kind: MessageKind,
    now: datetime,
    dedupe_key: str,
    *,
    calendar: bool = False,
) -> bool:
    """Queue one registration message in the caller's unit of work; False if its
    ``dedupe_key`` was queued before."""
    return mail.queue_message(
        kind=kind,
        dedupe_key=dedupe_key,
        to=registration.email,
        name=registration.name,
        language=registration.language,
        template=f"registration/{template}",
        # The cancellation notice is written from the event alone.
        params={
            "registration_id": registration.id,
            "event_id": registration.event_id,
            "calendar": calendar,
        },
        now=now,
        event_id=registration.event_id,
        registration_id=registration.id,
    )


def resend_confirmation(registration_id: int, now: datetime) -> bool:
    """Send the person their confirmation (or waiting-list message) again, for organisers."""
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        registration = db.session.get(Registration, registration_id)
        if registration is None or registration.is_cancelled:
            return False
        queue_confirmation(registration, now, resend=True)
    return True


def notify_registrants(event: Event, template: str, now: datetime) -> int:
    """Tell everyone registered or waiting about a change to the event (``event_changed``)
    or its cancellation (``event_cancelled``): one message each, once per version of the
    event. One unit of work (or part of the caller's); returns how many were queued."""
    queued = 0
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        registrations = db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
            .order_by(Registration.id)
        )
        for registration in registrations:
            queued += queue_message(
                registration,
                template,
                MessageKind.EVENT_UPDATE,
                now,
                f"{template}:{event.id}:{event.sequence}:{registration.id}",
                calendar=registration.is_confirmed,
            )
    return queued


@mail.message_builder(
    "registration/waiting_list",
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


@mail.message_builder("registration/confirmation", "registration/promoted")
def place_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """A place confirmed: ``registration_content`` and, for an event with a door, the check-in
    link with its QR code inline beside it (none once the registration is cancelled: the link
    would be dead)."""
    content = registration_content(params, memo)
    registration = content.context["registration"]
    if registration.is_cancelled or not registration.event.has_venue:
        return content
    url = checkin_url(registration)
    return mail.MessageContent(
        {**content.context, "checkin_url": url, "checkin_qr": QR_CONTENT_ID},
        [*content.attachments, qr_attachment(url)],
    )


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

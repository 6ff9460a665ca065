"""What registrants are mailed: queueing their messages (outbox rows, inside the caller's unit
of work) and the content each message is rendered from when it goes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from service.db import unit_of_work
from service.events.ics import Attending, event_calendar
from service.events.models import Event, EventFormat
from service.events.timing import LazyTiming, format_moment
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind
from service.mail.service import Attachment
from service.registration.checkin import QR_CONTENT_ID, checkin_url, qr_attachment
from service.registration.links import join_url, manage_url
from service.registration.models import Registration, RegistrationStatus
from service.registration.needs import interpretation_context
from service.registration.parts import queue_position
from service.text import plain_text, render_markdown
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
    extra: dict[str, Any] | None = None,
) -> bool:
    """Queue one registration message in the caller's unit of work; False if its
    ``dedupe_key`` was queued before. ``extra``: short texts the message states as they were
    when it was queued (the changes told, the organisers' message)."""
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
            **(extra or {}),
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


def notify_registrants(event: Event, template: str, now: datetime, *, message: str = "") -> int:
    """Tell everyone registered or waiting about the event's cancellation (``event_cancelled``,
    with the organisers' ``message``) or its reinstatement (``event_reinstated``): one message
    each, once per version of the event. One unit of work (or part of the caller's); returns
    how many were queued."""
    queued = 0
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        for registration in _registered_or_waiting(event):
            queued += queue_message(
                registration,
                template,
                MessageKind.EVENT_UPDATE,
                now,
                f"{template}:{event.id}:{event.sequence}:{registration.id}",
                calendar=registration.is_confirmed,
                extra={"message": message} if message else None,
            )
    return queued


# What registrants are told about when it changes, in the order the message lists it.
TOLD_FIELDS = ("starts_at", "ends_at", "format", "venue", "address", "join_url")
_TIMES = ("starts_at", "ends_at")


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    """What changed of ``TOLD_FIELDS`` (their values before and after), as a message's params
    keep it: old and new values as text (times in ISO, in UTC), but never a joining link,
    which only the person's own link reveals."""
    changes = []
    for field in TOLD_FIELDS:
        old, new = before[field], after[field]
        if old == new:
            continue
        if field == "join_url":
            changes.append({"field": field})
        else:
            changes.append({"field": field, "old": _as_text(old), "new": _as_text(new)})
    return changes


def told_fields(event: Event) -> dict[str, Any]:
    return {field: getattr(event, field) for field in TOLD_FIELDS}


def _as_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def changes_for(
    registration: Registration, changes: list[dict[str, str]], *, online: bool
) -> list[dict[str, str]]:
    """The changes this person hears about: a new joining link only matters to someone
    confirmed for an event with an online part, and at a hybrid event only to those online."""
    hears_of_link = (
        registration.is_confirmed
        and online
        and (registration.event.format is not EventFormat.HYBRID or registration.takes_part_online)
    )
    return [change for change in changes if change["field"] != "join_url" or hears_of_link]


def audience(event: Event, changes: list[dict[str, str]], *, online: bool) -> tuple[int, int]:
    """How many confirmed and how many waiting would be told of ``changes``."""
    confirmed = waiting = 0
    for registration in _registered_or_waiting(event):
        if changes_for(registration, changes, online=online):
            confirmed += registration.is_confirmed
            waiting += registration.is_waiting
    return confirmed, waiting


def notify_changes(event: Event, changes: list[dict[str, str]], now: datetime) -> int:
    """Tell each person registered or waiting what changed of what concerns them (old and
    new), in the caller's unit of work; returns how many were queued."""
    queued = 0
    for registration in _registered_or_waiting(event):
        told = changes_for(registration, changes, online=event.is_online)
        if told:
            queued += queue_message(
                registration,
                "event_changed",
                MessageKind.EVENT_UPDATE,
                now,
                # The time too: a new joining link does not change the calendar's sequence.
                f"event_changed:{event.id}:{event.sequence}:{registration.id}:{now.isoformat()}",
                calendar=registration.is_confirmed,
                extra={"changes": told},
            )
    return queued


def registered_and_waiting(event: Event) -> tuple[int, int]:
    """How many are confirmed and how many waiting: who hears of a cancellation."""
    people = _registered_or_waiting(event)
    return sum(r.is_confirmed for r in people), sum(r.is_waiting for r in people)


def _registered_or_waiting(event: Event) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
            .order_by(Registration.id)
        )
    )


@dataclass(frozen=True)
class ChangeLine:
    label: str  # "Starts"
    old: str  # "" for the joining link, which is never shown
    new: str


CHANGE_LABELS = {
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "format": _l("Format"),
    "venue": _l("Venue"),
    "address": _l("Address"),
    "join_url": _l("Joining link"),
}
FORMAT_NAMES = {
    EventFormat.ONLINE: _l("Online"),
    EventFormat.IN_PERSON: _l("In person"),
    EventFormat.HYBRID: _l("In person and online"),
}


def describe_changes(event: Event, changes: list[dict[str, str]]) -> list[ChangeLine]:
    """The changes in words, in the current language, times in the event's zone."""
    return [
        ChangeLine(
            str(CHANGE_LABELS[change["field"]]),
            _in_words(event, change["field"], change.get("old", "")),
            _in_words(event, change["field"], change.get("new", "")),
        )
        for change in changes
    ]


def _in_words(event: Event, field: str, value: str) -> str:
    if field == "join_url":
        return ""
    if field in _TIMES:
        return format_moment(datetime.fromisoformat(value), event.zone)
    if field == "format":
        return str(FORMAT_NAMES[EventFormat(value)])
    return value or _("(none)")


@mail.message_builder(
    "registration/waiting_list",
    "registration/switch_queued",
    "registration/event_changed",
    "registration/event_cancelled",
    "registration/event_reinstated",
)
def registration_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """The person's registration as it is when the message goes out, and the calendar file."""
    registration = db.session.get(Registration, params["registration_id"])
    if registration is None:
        raise LookupError(f"registration {params['registration_id']} no longer exists")
    attachments = []
    if params.get("calendar"):
        event = registration.event
        attending = _attending(registration)
        # An online copy carries the person's own link: it is theirs alone.
        key = ("calendar", event.id, event.sequence, str(get_locale()), attending)
        if key not in memo:
            memo[key] = event_calendar(event, event.updated_at, attending).decode()
        attachments.append(
            Attachment(f"{event.slug}.ics", "text/calendar; method=PUBLISH", memo[key])
        )
    context = message_context(registration)
    context["changes"] = describe_changes(registration.event, params.get("changes", []))
    context["message_html"] = render_markdown(params.get("message"))
    context["message_text"] = plain_text(params.get("message"))
    return mail.MessageContent(context, attachments)


@mail.message_builder("registration/confirmation", "registration/promoted", "registration/switched")
def place_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """A place confirmed: ``registration_content`` and, for an event with a door, the check-in
    link with its QR code inline beside it (none once the registration is cancelled: the link
    would be dead)."""
    content = registration_content(params, memo)
    registration = content.context["registration"]
    if registration.is_cancelled or not registration.takes_part_in_the_room:
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
        # Only for those who take part online: never for a place in a hybrid event's room.
        "join_url": join_url(registration) if registration.takes_part_online else "",
        "in_the_room": registration.takes_part_in_the_room,
        "waiting_position": (
            waiting_position(registration)
            if registration.is_waiting or registration.wants_mode
            else None
        ),
        **interpretation_context(registration),
    }


def _attending(registration: Registration) -> Attending:
    online = registration.takes_part_online
    return Attending(online, join_url(registration) if online else "")


def waiting_position(registration: Registration) -> int:
    """Where the person is in the queue they are in: their part's waiting list, or the one
    of the part they asked to switch to."""
    return queue_position(registration)

"""The reminder sweep: queue every reminder that is due, once.

A reminder's dedupe key holds the event's start time, so a rescheduled event gets fresh
reminders while nothing else is ever queued twice. When several reminders of one event are
due at once (the scheduler was down, the event was moved closer), only the latest is sent:
nobody gets "tomorrow" an hour before the start, and the scheduled-mail page shows the others
as superseded. Speakers who declined get no brief; those invited who have not answered do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, case, cast, exists, literal, select
from sqlalchemy.orm import selectinload

from service.db import unit_of_work
from service.events.models import Event, EventFormat, EventPerson, EventStatus, SpeakerAnswer
from service.events.timing import LazyTiming, format_time, zone_abbreviation
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind, OutboxMessage
from service.registration import links
from service.registration.links import join_link
from service.registration.models import (
    Registration,
    RegistrationMode,
    RegistrationStatus,
    takes_part_online,
)
from service.registration.needs import interpretation_for
from service.text import render_markdown
from service.urls import absolute_url

LONGEST_OFFSET = timedelta(days=30)
COMMIT_EVERY = 200


@dataclass(frozen=True)
class Reminder:
    """One reminder of an event: who gets it (attendees or speakers) and how long before."""

    kind: MessageKind
    minutes_before: int
    due_at: datetime

    def key_prefix(self, event: Event) -> str:
        """The one place a reminder's dedupe key is made: this prefix and the person's id (a
        registration's, or a speaker's event person). Nothing parses it: what a message is
        about is in the outbox's own columns."""
        start = event.starts_at.strftime("%Y%m%dT%H%MZ")
        return f"{self.kind.value}:{event.id}:{start}:{self.minutes_before}:"


def reminders_of(event: Event, kind: MessageKind) -> list[Reminder]:
    offsets = (
        event.attendee_reminder_offsets
        if kind is MessageKind.REMINDER
        else event.speaker_reminder_offsets
    )
    return sorted(
        (
            Reminder(kind, minutes, event.starts_at - timedelta(minutes=minutes))
            for minutes in set(offsets)
        ),
        key=lambda reminder: reminder.due_at,
    )


def latest_due(event: Event, kind: MessageKind, now: datetime) -> Reminder | None:
    due = [reminder for reminder in reminders_of(event, kind) if reminder.due_at <= now]
    return due[-1] if due else None


def sweep_reminders(now: datetime) -> int:
    """Queue every reminder due at ``now``; returns how many were queued.

    A unit of work per event, and one more per ``COMMIT_EVERY`` attendee reminders beyond the
    first so that dispatchers (and SQLite's other writers) get in between; concurrent sweeps
    are safe because a dedupe key can be queued only once.
    """
    queued = 0
    for event_id in _events_in_reminder_window(now):
        with unit_of_work():
            event = db.session.scalar(
                select(Event).where(Event.id == event_id).options(selectinload(Event.people))
            )
            if event is None:
                continue
            rows = _attendee_reminder_rows(event, now)
            queued += mail.queue_rows(rows[:COMMIT_EVERY])
            queued += _queue_speaker_reminders(event, now)
        for start in range(COMMIT_EVERY, len(rows), COMMIT_EVERY):
            with unit_of_work():
                queued += mail.queue_rows(rows[start : start + COMMIT_EVERY])
    return queued


def _events_in_reminder_window(now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(Event.id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + LONGEST_OFFSET,
            )
            .order_by(Event.starts_at)
        )
    )


def _due_registrations(
    event: Event, reminder: Reminder
) -> list[tuple[int, str, str, str, str, RegistrationMode, str | None]]:
    """(id, email, name, language, link secret, mode, language followed through
    interpretation) of confirmed registrants not yet reminded, not unsubscribed, and
    registered in time for this reminder."""
    grace = timedelta(minutes=int(current_app.config["REMINDER_GRACE_MINUTES"]))
    key = literal(reminder.key_prefix(event)) + cast(Registration.id, String)
    query = (
        select(
            Registration.id,
            Registration.email,
            Registration.name,
            Registration.language,
            Registration.link_secret,
            Registration.mode,
            case((Registration.needs_interpretation, Registration.follows_language)),
        )
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.created_at <= reminder.due_at + grace,
            ~exists().where(OutboxMessage.dedupe_key == key),
        )
        .order_by(Registration.id)
    )
    rows = [tuple(row) for row in db.session.execute(query)]
    # Unsubscriptions hold keyed hashes, which only Python can compute.
    unsubscribed = mail.unsubscribed_addresses((row[1] for row in rows), MessageKind.REMINDER)
    return [row for row in rows if row[1] not in unsubscribed]


def _attendee_reminder_rows(event: Event, now: datetime) -> list[dict[str, Any]]:
    """The outbox rows of the attendee reminder due now, for those not reminded yet."""
    reminder = latest_due(event, MessageKind.REMINDER, now)
    if reminder is None:
        return []
    key_prefix = reminder.key_prefix(event)
    return [
        mail.outbox_row(
            kind=MessageKind.REMINDER,
            dedupe_key=key_prefix + str(registration_id),
            to=email,
            name=name,
            language=language,
            template="reminders/reminder",
            params={
                "event_id": event.id,
                "minutes_before": reminder.minutes_before,
                "registration_id": registration_id,
                # Only for those who take part online: never for a hybrid event's room.
                "join_url": (
                    join_link(registration_id, link_secret)
                    if takes_part_online(event.format, mode)
                    else ""
                ),
                # Only theirs: how to reach the interpreted channel, told when it is sent.
                **({"interpretation_language": interpreted} if interpreted else {}),
            },
            now=now,
            event_id=event.id,
            registration_id=registration_id,
        )
        # _due_registrations leaves out the unsubscribed and those reminded already.
        for registration_id, email, name, language, link_secret, mode, interpreted in (
            _due_registrations(event, reminder)
        )
    ]


def briefed_people(event: Event) -> list[EventPerson]:
    """Who gets the speaker brief: everyone on the bill with an address who did not decline."""
    return [
        person
        for person in event.people
        if person.email and person.answer is not SpeakerAnswer.DECLINED
    ]


def _queue_speaker_reminders(event: Event, now: datetime) -> int:
    reminder = latest_due(event, MessageKind.SPEAKER_REMINDER, now)
    if reminder is None:
        return 0
    queued = 0
    for person in briefed_people(event):
        # queue_message leaves out whoever stopped this event's briefs (or every event's).
        queued += mail.queue_message(
            kind=MessageKind.SPEAKER_REMINDER,
            dedupe_key=reminder.key_prefix(event) + str(person.id),
            to=person.email or "",
            name=person.name,
            language=person.language,
            template="reminders/speaker_reminder",
            params={"event_id": event.id, "minutes_before": reminder.minutes_before},
            now=now,
            event_id=event.id,
        )
    return queued


@mail.message_builder("reminders/reminder", "reminders/speaker_reminder")
def reminder_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """A reminder's context, shared by every message about the same event in a batch."""
    key = ("reminder", params["event_id"], params["minutes_before"])
    if key not in memo:
        event = db.session.scalar(
            select(Event).where(Event.id == params["event_id"]).options(selectinload(Event.people))
        )
        if event is None:
            raise LookupError(f"event {params['event_id']} no longer exists")
        memo[key] = _reminder_context(event, params["minutes_before"])
    context = memo[key]
    join_url, in_the_room = params.get("join_url", ""), context["event"].has_venue
    if context["event"].format is EventFormat.HYBRID and "registration_id" in params:
        # As the person takes part when it goes out: they may have switched since it was queued.
        registration = db.session.get(Registration, params["registration_id"])
        online = registration is not None and registration.takes_part_online
        join_url = links.join_url(registration) if registration and online else ""
        in_the_room = not online
    return mail.MessageContent(
        {
            **context,
            "join_url": join_url,
            "in_the_room": in_the_room,
            **interpretation_for(context["event"], params.get("interpretation_language")),
        }
    )


def _reminder_context(event: Event, minutes_before: int) -> dict[str, Any]:
    """What the templates need; times are formatted inside the recipient's language."""
    arrival = event.starts_at - timedelta(minutes=event.speaker_arrival_minutes)
    local_arrival = arrival.astimezone(event.zone)
    return {
        "event": event,
        "reminder": Reminder(
            MessageKind.REMINDER,
            minutes_before,
            event.starts_at - timedelta(minutes=minutes_before),
        ),
        "timing": LazyTiming(event),
        "event_url": absolute_url("events.show_event", slug=event.slug),
        "calendar_url": absolute_url("events.download_event_calendar", slug=event.slug),
        "arrival_time": f"{format_time(arrival, event.zone)} {zone_abbreviation(local_arrival)}",
        "speaker_notes_html": render_markdown(event.speaker_notes),
        "running_order": [person for person in event.people if person.is_public],
    }


@dataclass(frozen=True)
class PlannedMessage:
    kind: MessageKind
    due_at: datetime
    recipient: str
    name: str
    minutes_before: int
    # "sent", "pending", "failed", "scheduled" (not queued yet), "due", "too late",
    # "superseded" (a later one of the same kind is due too: only that one goes) or "missed"
    # (the event started before it went).
    status: str


def upcoming_reminders(event: Event, now: datetime) -> list[PlannedMessage]:
    """Every reminder of the event, to whom and when, with what has happened to it so far."""
    grace = timedelta(minutes=int(current_app.config["REMINDER_GRACE_MINUTES"]))
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .order_by(Registration.id)
        )
    )
    speakers = briefed_people(event)
    statuses = mail.message_statuses(event.id)
    planned: list[PlannedMessage] = []
    for kind, people in (
        (MessageKind.REMINDER, [(r.id, r.email, r.name, r.created_at) for r in registrations]),
        (MessageKind.SPEAKER_REMINDER, [(p.id, p.email or "", p.name, None) for p in speakers]),
    ):
        current = latest_due(event, kind, now)  # the only past one the sweep still sends
        for reminder in reminders_of(event, kind):
            for person_id, email, name, registered_at in people:
                status = statuses.get(reminder.key_prefix(event) + str(person_id))
                if status is not None:
                    label = str(status)
                elif registered_at is not None and registered_at > reminder.due_at + grace:
                    label = "too late"
                elif reminder.due_at > now:
                    label = "scheduled"
                elif reminder != current:
                    label = "superseded"
                elif event.starts_at <= now:
                    label = "missed"
                else:
                    label = "due"
                planned.append(
                    PlannedMessage(
                        kind, reminder.due_at, email, name, reminder.minutes_before, label
                    )
                )
    return sorted(planned, key=lambda message: (message.due_at, message.kind, message.name))

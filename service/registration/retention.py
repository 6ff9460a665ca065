"""Personal data is kept only as long as it is needed: after an event's retention period
(``RETENTION_DAYS`` after it ends, or the event's own), its attendees' names, emails,
organisations, answers and access needs are removed, everywhere (their mail too: outbox rows
and the file backend's ``.eml`` copies), and the counts stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    String,
    cast,
    delete,
    literal,
    select,
    update,
)

from service.db import empty_write_ahead_log, unit_of_work
from service.events.models import Event
from service.extensions import db
from service.mail import service as mail
from service.registration.models import Answer, Registration

# What stands for a removed name: the database refuses a blank one.
REMOVED_NAME = "—"


def retention_days(event: Event) -> int:
    """How many days after the event its attendees' personal data is removed."""
    return event.retention_days or int(current_app.config["RETENTION_DAYS"])


def removal_date(event: Event) -> datetime:
    return event.ends_at + timedelta(days=retention_days(event))


def apply_retention(now: datetime) -> list[Event]:
    """Anonymise every event whose retention period has passed; returns those events."""
    candidates = db.session.scalars(
        select(Event).where(Event.personal_data_removed_at.is_(None), Event.ends_at < now)
    ).all()
    due = [event.id for event in candidates if removal_date(event) <= now]
    done = []
    for event_id in due:
        with unit_of_work():  # one event at a time: each removal stands on its own
            event = db.session.get(Event, event_id)
            if event is None or event.personal_data_removed_at is not None:
                continue  # removed meanwhile by another process
            _anonymise(event, now)
        done.append(event)
    mail.remove_unlisted_files()
    if done:
        empty_write_ahead_log(db.engine)
    return done


def _anonymise(event: Event, now: datetime) -> None:
    registrations = select(Registration.id).where(Registration.event_id == event.id)
    db.session.execute(delete(Answer).where(Answer.registration_id.in_(registrations)))
    mail.forget_messages(
        event_id=event.id,
        registration_ids=registrations,
        # Queued before messages named what they are about: a registration deleted on
        # registering again, to the same address as the one that replaced it.
        orphans_to=select(Registration.email).where(Registration.event_id == event.id),
    )
    db.session.execute(
        update(Registration)
        .where(Registration.event_id == event.id)
        .values(
            name=REMOVED_NAME,
            # Unique per event still, and never deliverable (RFC 2606's .invalid).
            email=literal("removed-") + cast(Registration.id, String) + literal("@invalid"),
            organisation="",
            keep_informed_at=None,
            # Special-category data: nothing of it stays (the language counts do).
            access_needs=[],
            access_needs_other="",
        )
        .execution_options(synchronize_session=False)
    )
    event.personal_data_removed_at = now

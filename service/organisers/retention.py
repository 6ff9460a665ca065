"""Personal data is kept only as long as it is needed: after an event's retention period
(``RETENTION_DAYS`` after it ends, or the event's own), its attendees' names, emails,
organisations and answers are removed, everywhere, and the counts stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, delete, literal, select, update

from service.db import begin_writing
from service.events.models import Event
from service.extensions import db
from service.mail.models import OutboxMessage
from service.registration.models import Answer, Registration


# What stands for a removed name: the database refuses a blank one.
REMOVED_NAME = "—"


def removal_date(event: Event) -> datetime:
    days = event.retention_days or int(current_app.config["RETENTION_DAYS"])
    return event.ends_at + timedelta(days=days)


def apply_retention(now: datetime) -> list[Event]:
    """Anonymise every event whose retention period has passed; returns those events."""
    candidates = db.session.scalars(
        select(Event).where(Event.personal_data_removed_at.is_(None), Event.ends_at < now)
    ).all()
    due = [event.id for event in candidates if removal_date(event) <= now]
    db.session.commit()
    done = []
    for event_id in due:
        begin_writing(db.session)
        event = db.session.get(Event, event_id)
        if event is None or event.personal_data_removed_at is not None:
            db.session.rollback()
            continue
        _anonymise(event, now)
        db.session.commit()
        done.append(event)
    return done


def _anonymise(event: Event, now: datetime) -> None:
    registrations = select(Registration.id).where(Registration.event_id == event.id)
    emails = select(Registration.email).where(Registration.event_id == event.id)
    db.session.execute(delete(Answer).where(Answer.registration_id.in_(registrations)))
    # Mail to these people about this event: their address, name and the text sent.
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.recipient.in_(emails),
            OutboxMessage.params["registration_id"].as_integer().in_(registrations)
            | OutboxMessage.dedupe_key.like(f"reminder:{event.id}:%"),
        )
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
        )
        .execution_options(synchronize_session=False)
    )
    event.personal_data_removed_at = now

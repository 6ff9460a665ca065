"""Personal data is kept only as long as it is needed: after an event's retention period
(``RETENTION_DAYS`` after it ends, or the event's own), its attendees' names, emails,
organisations and answers are removed, everywhere (their mail too: outbox rows and the file
backend's ``.eml`` copies), and the counts stay."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    delete,
    literal,
    or_,
    select,
    update,
)

from service.db import begin_writing, empty_write_ahead_log
from service.events.models import Event
from service.extensions import db
from service.mail import service as mail
from service.mail.models import OutboxMessage
from service.registration.models import Announcement, Answer, Registration

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
    mail.remove_unlisted_files()
    if done:
        empty_write_ahead_log(db.engine)
    return done


def _anonymise(event: Event, now: datetime) -> None:
    registrations = select(Registration.id).where(Registration.event_id == event.id)
    db.session.execute(delete(Answer).where(Answer.registration_id.in_(registrations)))
    mail.delete_messages(_mail_about(event, registrations))
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


def _mail_about(event: Event, registration_ids: Select[Any]) -> ColumnElement[bool]:
    """Every message about the event, to anyone: registrants (also those whose registration
    was deleted when they registered again), speakers and organisers' tests alike."""
    params = OutboxMessage.params
    return or_(
        params["event_id"].as_integer() == event.id,
        params["registration_id"].as_integer().in_(registration_ids),
        params["announcement_id"]
        .as_integer()
        .in_(select(Announcement.id).where(Announcement.event_id == event.id)),
        # Queued before messages named their event: the mail of a registration deleted on
        # registering again, to the same address as the registration that replaced it.
        and_(
            params["registration_id"].as_integer().not_in(select(Registration.id)),
            OutboxMessage.recipient.in_(
                select(Registration.email).where(Registration.event_id == event.id)
            ),
        ),
    )

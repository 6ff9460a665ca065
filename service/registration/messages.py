"""Messages organisers write to an event's registrants or its waiting list."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from service.db import unit_of_work
from service.events.models import Event
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind
from service.registration.links import manage_url
from service.registration.models import Announcement, Registration, RegistrationStatus
from service.text import plain_text, render_markdown
from service.urls import absolute_url


class Sender(Protocol):
    """The organiser who writes a message (an account of ``service.organisers``)."""

    id: int
    email: str
    name: str


AUDIENCES = {"registered": RegistrationStatus.CONFIRMED, "waiting": RegistrationStatus.WAITING}


def send_test(organiser: Sender, event: Event, subject: str, body: str, now: datetime) -> None:
    """The message as registrants will get it, to the organiser alone."""
    with unit_of_work():
        mail.queue_test(
            organiser.email,
            organiser.name,
            language="en",
            template="registration/announcement",
            params={"event_id": event.id, "subject": subject, "body": body},
            now=now,
            event_id=event.id,
        )


def send_announcement(
    organiser: Sender, event: Event, audience: str, subject: str, body: str, now: datetime
) -> Announcement:
    """Queue the message to everyone in ``audience``: one message each, whatever happens."""
    with unit_of_work():
        announcement = Announcement(
            event_id=event.id,
            organiser_id=organiser.id,
            audience=audience,
            subject=subject,
            body=body,
            created_at=now,
        )
        db.session.add(announcement)
        db.session.flush()
        recipients = db.session.execute(
            select(Registration.id, Registration.email, Registration.name, Registration.language)
            .where(Registration.event_id == event.id, Registration.status == AUDIENCES[audience])
            .order_by(Registration.id)
        )
        for registration_id, email, name, language in recipients:
            announcement.recipients += mail.queue_message(
                kind=MessageKind.ANNOUNCEMENT,
                dedupe_key=f"announcement:{announcement.id}:{registration_id}",
                to=email,
                name=name,
                language=language,
                template="registration/announcement",
                params={"announcement_id": announcement.id, "registration_id": registration_id},
                now=now,
                event_id=event.id,
                registration_id=registration_id,
            )
    return announcement


def list_announcements(event_id: int) -> list[Announcement]:
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.event_id == event_id)
            .order_by(Announcement.created_at.desc())
        )
    )


@mail.message_builder("registration/announcement")
def announcement_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    if "announcement_id" in params:
        announcement = db.session.get(Announcement, params["announcement_id"])
        if announcement is None:
            raise LookupError(f"announcement {params['announcement_id']} no longer exists")
        event, subject, body = announcement.event, announcement.subject, announcement.body
    else:
        event = db.session.get(Event, params["event_id"])
        subject, body = params["subject"], params["body"]
    registration = (
        db.session.get(Registration, params["registration_id"])
        if "registration_id" in params
        else None
    )
    return mail.MessageContent(
        {
            "event": event,
            "message_subject": subject,
            "body_html": render_markdown(body),
            "body_text": plain_text(body),
            "event_url": absolute_url("events.show_event", slug=event.slug),
            "manage_url": manage_url(registration) if registration else "",
        }
    )

"""Changing an event and telling its registrants is one unit of work."""

from __future__ import annotations

from sqlalchemy import select

from service.events.models import Event, EventStatus
from service.extensions import db
from service.mail.models import OutboxMessage
from service.registration import service as registering
from tests.registration.test_capacity import NOW, WHEN


def cancelled_notices(app) -> list[str]:
    with app.app_context():
        return sorted(
            db.session.scalars(
                select(OutboxMessage.recipient).where(
                    OutboxMessage.template == "registration/event_cancelled"
                )
            )
        )


def test_cancelling_a_published_event_tells_everyone_registered_or_waiting(app, make_event):
    event = make_event(**WHEN, capacity=1)
    with app.app_context():
        for name in ("ana", "bea"):
            registering.register(
                event.slug, registering.Attendee(name, f"{name}@example.org"), "en", NOW
            )
        told = registering.change_status(
            db.session.get(Event, event.id), EventStatus.CANCELLED, NOW
        )
        assert told == 2
        assert db.session.get(Event, event.id).status is EventStatus.CANCELLED
    assert cancelled_notices(app) == ["ana@example.org", "bea@example.org"]


def test_other_status_changes_tell_nobody(app, make_event):
    event = make_event(**WHEN, status="draft")
    with app.app_context():
        told = registering.change_status(
            db.session.get(Event, event.id), EventStatus.CANCELLED, NOW
        )
        assert told == 0
        told = registering.change_status(
            db.session.get(Event, event.id), EventStatus.PUBLISHED, NOW
        )
        assert (told, db.session.get(Event, event.id).sequence) == (0, 2)
    assert cancelled_notices(app) == []

"""An event that has ended, its registrants (some came, some did not), the statement its
follow-up asks them to sign, and an organiser who writes the follow-up through its page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.db import utc_now
from service.extensions import db
from service.mail import service as mail
from service.registration.models import JoinClick, RegistrationStatus
from tests.events.fixtures import LONDON
from tests.mail.fixtures import smtp_config
from tests.organisers.conftest import logged_in, make_organiser, manager_of
from tests.registration.fixtures import csrf_token

SLUG = "solidarity-meeting"
PATH = f"/organisers/events/{SLUG}/follow-up"
STARTS = datetime(2027, 4, 19, 18, 30, tzinfo=LONDON)
ENDS = datetime(2027, 4, 19, 20, 0, tzinfo=LONDON)
NEXT_MORNING = datetime(2027, 4, 20, 9, 0, tzinfo=LONDON)
REGISTERED = datetime(2027, 4, 1, tzinfo=UTC)

__all__ = ["make_organiser"]


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


@dataclass(frozen=True)
class Meeting:
    event_id: int
    statement_id: int
    registration_ids: dict[str, int]  # by email


@pytest.fixture
def meeting(app: Flask, make_event, make_registration, make_statement) -> Meeting:
    """A hybrid meeting: Ana checked in at the door, Ben (Spanish) joined online during it,
    Cai joined before the link opened and Dee never came; Wes waited, Cy cancelled."""
    event = make_event(format="hybrid", venue="Marx Memorial Library")
    statement = make_statement()
    people = {
        "ana@example.org": {"name": "Ana", "checked_in_at": STARTS + timedelta(minutes=5)},
        "ben@example.org": {"name": "Benito", "language": "es"},
        "cai@example.org": {"name": "Cai"},
        "dee@example.org": {"name": "Dee", "language": "es"},
        "wes@example.org": {"name": "Wes", "status": RegistrationStatus.WAITING},
        "cy@example.org": {"name": "Cy", "status": RegistrationStatus.CANCELLED},
    }
    ids = {
        email: make_registration(event.id, email, created_at=REGISTERED, **fields).id
        for email, fields in people.items()
    }
    with app.app_context():
        db.session.add_all(
            [
                JoinClick(
                    registration_id=ids["ben@example.org"],
                    clicked_at=STARTS + timedelta(minutes=20),
                ),
                JoinClick(
                    registration_id=ids["cai@example.org"], clicked_at=STARTS - timedelta(hours=2)
                ),
            ]
        )
        db.session.commit()
    return Meeting(event.id, statement.id, ids)


@pytest.fixture
def organiser(app: Flask, client: FlaskClient, meeting: Meeting, make_organiser) -> FlaskClient:
    account = make_organiser("organiser@example.org", name="Olga")
    return logged_in(client, manager_of(app, account, meeting.event_id))


def follow_up_form(meeting: Meeting, **overrides: Any) -> dict[str, Any]:
    """What an organiser types: both versions, in both languages, with every link."""
    return {
        "send_at": "2027-04-20T09:00",
        "recording_url": "https://video.example.org/bolivia-meeting",
        "slides_url": "https://slides.example.org/bolivia.pdf",
        "statement_id": str(meeting.statement_id),
        "attended_subject": "Thank you for coming",
        "attended_subject_es": "Gracias por venir",
        "attended_body": "It was **wonderful** to see you.\n\n<script>alert(1)</script>",
        "attended_body_es": "Fue **estupendo** verte.",
        "attended_with_slides": "y",
        "attended_with_sign": "y",
        "missed_subject": "Sorry we missed you",
        "missed_subject_es": "Te echamos de menos",
        "missed_body": "Here is the recording.",
        "missed_body_es": "Aquí está la grabación.",
        "missed_with_recording": "y",
        "missed_with_sign": "y",
        **overrides,
    }


def save(client: FlaskClient, meeting: Meeting, **overrides: Any) -> TestResponse:
    data = {"csrf_token": csrf_token(client, PATH), **follow_up_form(meeting, **overrides)}
    return client.post(PATH, data={key: value for key, value in data.items() if value is not None})


def deliver(app: Flask, now: datetime | None = None) -> None:
    with app.app_context():
        mail.dispatch_due(now or utc_now())

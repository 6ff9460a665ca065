"""Writing to an event's registrants: preview, a test to oneself, then once to each person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind, OutboxMessage
from service.organisers.service import create_organiser
from service.registration.models import RegistrationStatus
from tests.events.test_pages import text_of
from tests.mail.fixtures import smtp_config
from tests.registration.fixtures import csrf_token

PASSWORD = "a long enough password"
PATH = "/organisers/events/solidarity-meeting/messages"


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


@pytest.fixture
def organiser(app, client, make_event, make_registration):
    event = make_event()
    now = datetime(2027, 1, 1, tzinfo=UTC)
    make_registration(event.id, "one@example.org", name="Uno", created_at=now, language="es")
    make_registration(event.id, "two@example.org", created_at=now)
    make_registration(
        event.id, "wait@example.org", created_at=now, status=RegistrationStatus.WAITING
    )
    make_registration(
        event.id, "gone@example.org", created_at=now, status=RegistrationStatus.CANCELLED
    )
    with app.app_context():
        create_organiser("organiser@example.org", PASSWORD)
    client.post(
        "/organisers/login",
        data={
            "csrf_token": csrf_token(client, "/organisers/login"),
            "email": "organiser@example.org",
            "password": PASSWORD,
        },
    )
    return client


def compose(client, action: str, **fields):
    return client.post(
        PATH,
        data={
            "csrf_token": csrf_token(client, PATH),
            "audience": "registered",
            "subject": "Bring your banner",
            "action": action,
            "body": "We meet at **six**.\n\n<script>x</script>",
            **fields,
        },
    )


def queued(app) -> list[tuple[str, MessageKind]]:
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.recipient, OutboxMessage.kind))
        return sorted(tuple(row) for row in rows)


def test_preview_test_then_send_once_each(app, organiser, smtp):
    preview = compose(organiser, "preview")
    page = preview.get_data(as_text=True)
    assert "<strong>six</strong>" in page and "<script>x" not in page
    assert queued(app) == []

    compose(organiser, "test")
    assert queued(app) == [("organiser@example.org", MessageKind.TEST)]

    response = compose(organiser, "send")
    assert "Sent to 2 person(s)." in text_of(organiser.get(response.headers["Location"]))
    announcements = [r for r in queued(app) if r[1] is MessageKind.ANNOUNCEMENT]
    assert sorted(r[0] for r in announcements) == ["one@example.org", "two@example.org"]

    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    [message] = smtp.to("two@example.org")
    assert message["Subject"] == "Bring your banner"
    assert "We meet at six." in message.get_body(("plain",)).get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/r/" in message.get_body(("plain",)).get_content()
    assert "Hola, Uno:" in smtp.to("one@example.org")[0].get_body(("plain",)).get_content()


def test_the_waiting_list_alone(app, organiser):
    compose(organiser, "send", audience="waiting")
    assert [r[0] for r in queued(app)] == ["wait@example.org"]


def test_unsubscribed_people_are_skipped(app, organiser):
    with app.app_context():
        mail.unsubscribe("two@example.org", MessageKind.ANNOUNCEMENT, datetime.now(UTC))
    compose(organiser, "send")
    assert [r[0] for r in queued(app)] == ["one@example.org"]


def test_an_empty_message_is_refused(app, organiser):
    response = compose(organiser, "send", body="")
    assert response.status_code == 400
    assert queued(app) == []

"""Writing to an event's registrants: preview, a test to oneself, then once to each person."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind, OutboxMessage
from service.registration.models import RegistrationStatus
from tests.events.test_pages import text_of
from tests.mail.fixtures import smtp_config
from tests.organisers.conftest import logged_in, manager_of
from tests.registration.fixtures import csrf_token

PATH = "/organisers/events/solidarity-meeting/messages"


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


@pytest.fixture
def organiser(app, client, make_event, make_registration, make_organiser):
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
    return logged_in(client, manager_of(app, make_organiser("organiser@example.org"), event.id))


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
        mail.unsubscribe(
            mail.address_hash("two@example.org"), MessageKind.ANNOUNCEMENT, datetime.now(UTC)
        )
    compose(organiser, "send")
    assert [r[0] for r in queued(app)] == ["one@example.org"]


def test_an_empty_message_is_refused(app, organiser):
    response = compose(organiser, "send", body="")
    assert response.status_code == 400
    assert queued(app) == []


def test_who_unsubscribed_through_an_announcement_gets_no_more(app, organiser, smtp):
    compose(organiser, "send")
    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    [first] = smtp.to("two@example.org")
    link = urlsplit(first["List-Unsubscribe"].strip("<>")).path
    response = organiser.post(
        link,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200

    compose(organiser, "send", subject="Second call")
    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    assert [m["Subject"] for m in smtp.to("two@example.org")] == ["Bring your banner"]
    assert [m["Subject"] for m in smtp.to("one@example.org")] == [
        "Bring your banner",
        "Second call",
    ]


def test_the_dashboards_retry_sends_nothing_to_who_unsubscribed(app, organiser, smtp):
    smtp.replies = ["550 5.2.2 mailbox full", "550 5.2.2 mailbox full"]
    compose(organiser, "send")
    with app.app_context():
        assert mail.dispatch_due(datetime.now(UTC)).failed == 2
        link = urlsplit(mail.unsubscribe_link("two@example.org", MessageKind.ANNOUNCEMENT)).path
    organiser.post(link)  # after it failed: "try again" must not revive it into a send

    for _round in range(2):
        retry = organiser.post(
            "/organisers/mail/retry-failed",
            data={"csrf_token": csrf_token(organiser, "/organisers/")},
        )
        assert retry.status_code == 302
        with app.app_context():
            mail.dispatch_due(datetime.now(UTC))
    assert [str(m["To"]) for m in smtp.messages] == ["Uno <one@example.org>"]
    with app.app_context():
        [stopped] = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "two@example.org")
        )
        assert (stopped.status, stopped.last_error) == ("failed", "unsubscribed")

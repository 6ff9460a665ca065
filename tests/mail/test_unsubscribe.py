"""Unsubscribe links in reminders: confirm page, one-click POST (RFC 8058), forged links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from service.mail import service
from service.mail.models import MessageKind
from tests.events.test_pages import text_of

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)


def link_path(app, email="Ana@Example.org", kind=MessageKind.REMINDER) -> str:
    with app.app_context():
        return urlsplit(service.unsubscribe_link(email, kind)).path


def unsubscribed(app, email="ana@example.org", kind=MessageKind.REMINDER) -> bool:
    with app.app_context():
        return service.is_unsubscribed(email, kind)


def test_get_asks_before_acting(app, client):
    page = client.get(link_path(app))
    assert page.status_code == 200
    assert "Stop sending reminders before the meetings you register for to ana@example.org?" in (
        text_of(page)
    )
    assert not unsubscribed(app)


def test_confirming_stops_that_kind_of_mail(app, client):
    response = client.post(link_path(app))
    assert response.status_code == 200
    assert "Done: ana@example.org will no longer receive reminders" in text_of(response)
    assert unsubscribed(app)
    assert not unsubscribed(app, kind=MessageKind.ANNOUNCEMENT)
    assert client.post(link_path(app)).status_code == 200  # twice is fine


def test_one_click_from_a_mail_app_needs_no_form_token(app, client):
    response = client.post(
        link_path(app),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert unsubscribed(app)


def test_pending_messages_of_that_kind_are_dropped(app, client, smtp):
    with app.app_context():
        service.queue_message(
            kind=MessageKind.REMINDER,
            dedupe_key="r1",
            to="ana@example.org",
            name="Ana",
            language="en",
            template="test_message",
            params={"body": "x"},
            now=NOW,
        )
        from service.extensions import db

        db.session.commit()
    client.post(link_path(app))
    with app.app_context():
        assert service.dispatch_due(NOW).attempted == 0
    assert smtp.messages == []


def test_forged_or_altered_links_are_not_found(app, client):
    path = link_path(app)
    assert client.get(path[:-2] + "xx").status_code == 404
    assert client.post("/unsubscribe/not-a-token").status_code == 404
    assert not unsubscribed(app)


def test_confirm_page_in_spanish(app, client):
    page = client.get(link_path(app), headers={"Accept-Language": "es"})
    assert "¿Dejar de enviar los recordatorios" in text_of(page)
    assert "Darse de baja" in text_of(page)

"""Manage and joining links: personal, unguessable, expiring, and revoked by cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from service.extensions import db
from service.registration import links, service
from service.registration.models import JoinClick, Registration
from tests.events.fixtures import SECRET_JOIN_URL
from tests.events.test_pages import text_of

START = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)


@pytest.fixture
def registration(app, make_event, make_registration):
    event = make_event(
        starts_at=START.isoformat(), ends_at=(START + timedelta(hours=2)).isoformat()
    )
    return make_registration(event.id, "ana@example.org", created_at=START - timedelta(days=2))


def path(app, function, registration) -> str:
    with app.app_context():
        return urlsplit(function(db.session.get(Registration, registration.id))).path


def decide(app, registration, now):
    with app.app_context():
        return links.use_join_link(db.session.get(Registration, registration.id), now)


def clicks(app) -> list[datetime]:
    with app.app_context():
        return list(db.session.scalars(select(JoinClick.clicked_at)))


def test_join_link_opens_the_meeting_only_in_its_window(app, registration):
    assert decide(app, registration, START - timedelta(minutes=31)) == "too_early"
    assert decide(app, registration, START - timedelta(minutes=30)) == "enter"
    assert decide(app, registration, START + timedelta(hours=1)) == "enter"
    assert decide(app, registration, START + timedelta(hours=2)) == "ended"
    assert clicks(app) == [START - timedelta(minutes=30), START + timedelta(hours=1)]


def test_join_link_before_the_window_shows_when(app, client, registration):
    response = client.get(path(app, links.join_url, registration))
    assert response.status_code == 200  # the real clock: 2031 is far away
    page = text_of(response)
    assert "The meeting is not open yet." in page
    assert "Monday 12 May 2031, 18:30 BST" in page
    assert SECRET_JOIN_URL not in response.get_data(as_text=True)


def test_join_link_redirects_in_the_window(app, client, make_event, make_registration):
    now = datetime.now(UTC)
    event = make_event(
        starts_at=(now + timedelta(minutes=10)).isoformat(),
        ends_at=(now + timedelta(hours=2)).isoformat(),
    )
    registration = make_registration(event.id, "ana@example.org", created_at=now)
    response = client.get(path(app, links.join_url, registration))
    assert response.status_code == 302
    assert response.headers["Location"] == SECRET_JOIN_URL
    assert len(clicks(app)) == 1


def test_cancelled_registrations_lose_access(app, client, registration):
    with app.app_context():
        service.cancel_registration(registration.id, START - timedelta(days=1))
    assert decide(app, registration, START) == "not_confirmed"
    assert clicks(app) == []


def test_forged_tampered_and_expired_links_are_404(app, client, registration):
    manage = path(app, links.manage_url, registration)
    join = path(app, links.join_url, registration)
    assert client.get(manage).status_code == 200
    assert client.get(manage[:-3] + "abc").status_code == 404
    assert client.get("/r/1").status_code == 404
    assert (
        client.get(join.replace("/j/", "/r/")).status_code == 404
    )  # a join link is not a manage link
    with app.app_context():
        assert (
            links.registration_from_link(
                "manage", manage.split("/")[-1], START + timedelta(days=31)
            )
            is None
        )
        db.session.get(Registration, registration.id).link_secret = "revoked"
        db.session.commit()
    assert client.get(manage).status_code == 404


def test_manage_page_shows_the_persons_own_details_only(
    app, client, registration, make_registration
):
    make_registration(
        registration.event_id, "other@example.org", created_at=START - timedelta(days=1)
    )
    page = client.get(path(app, links.manage_url, registration)).get_data(as_text=True)
    assert "ana@example.org" in page
    assert "other@example.org" not in page
    assert "/j/" in page  # their own joining link

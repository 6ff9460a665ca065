"""Duplicate and Repeat in the organisers' pages: real forms with CSRF, the copies as drafts
managed by whoever made them, the monthly note, refusals that change nothing, and who may."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from service.access.models import EventMember, EventRole
from service.audit.models import AuditEntry
from service.events import service as events
from service.events.models import Event, EventStatus
from service.extensions import db
from tests.access.test_roles import with_role
from tests.events.fixtures import LONDON
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in, manager_of, snapshot
from tests.registration.fixtures import csrf_token

EDIT = "/organisers/events/solidarity-meeting/edit"
DUPLICATE = "/organisers/events/solidarity-meeting/duplicate"
REPEAT = "/organisers/events/solidarity-meeting/repeat"
SERIES = "/organisers/events/solidarity-meeting/series"


@pytest.fixture
def manager(app, make_event, make_organiser):
    """An account that manages the event (and only it), logged in."""
    event = make_event()
    return manager_of(app, make_organiser("rosa@example.org"), event.id)


def _slugs_and_statuses(app) -> list[tuple[str, EventStatus]]:
    with app.app_context():
        return list(db.session.execute(sa.select(Event.slug, Event.status).order_by(Event.id)))


def test_the_event_form_offers_duplicate_and_repeat(client, manager):
    page = logged_in(client, manager).get(EDIT).get_data(as_text=True)
    assert f'href="{DUPLICATE}"' in page
    assert f'href="{REPEAT}"' in page


def test_duplicate_makes_a_draft_its_maker_manages(app, client, manager):
    logged_in(client, manager)
    page = client.get(DUPLICATE)
    assert page.status_code == 200
    assert 'value="2027-04-26T18:30"' in page.get_data(as_text=True)  # a week later suggested

    response = client.post(
        DUPLICATE,
        data={"csrf_token": csrf_token(client, DUPLICATE), "starts_at": "2027-05-03T19:00"},
    )

    assert response.status_code == 302
    assert response.location == "/organisers/events/solidarity-meeting-2027-05-03/edit"
    assert _slugs_and_statuses(app) == [
        ("solidarity-meeting", EventStatus.PUBLISHED),
        ("solidarity-meeting-2027-05-03", EventStatus.DRAFT),
    ]
    edit = client.get(response.location)
    assert "A draft copy is made" in text_of(edit)
    assert 'value="2027-05-03T19:00"' in edit.get_data(as_text=True)
    assert 'value="2027-05-03T20:30"' in edit.get_data(as_text=True)  # the end moved with it
    with app.app_context():
        copy = events.get_event("solidarity-meeting-2027-05-03")
        role = db.session.scalar(
            sa.select(EventMember.role).where(
                EventMember.event_id == copy.id, EventMember.organiser_id == manager.id
            )
        )
        assert role is EventRole.MANAGER
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "events.duplicate")
        )
        assert (entry.subject, entry.actor, entry.detail) == (
            "solidarity-meeting-2027-05-03",
            "rosa@example.org",
            "copy of solidarity-meeting",
        )


def test_a_copy_keeps_the_events_team(app, client, manager, make_organiser):
    with app.app_context():
        event_id = events.get_event("solidarity-meeting").id
    door = with_role(app, make_organiser, event_id, EventRole.DOOR, email="door@example.org")
    logged_in(client, manager).post(
        DUPLICATE,
        data={"csrf_token": csrf_token(client, DUPLICATE), "starts_at": "2027-05-03T19:00"},
    )
    with app.app_context():
        copy = events.get_event("solidarity-meeting-2027-05-03")
        team = dict(
            db.session.execute(
                sa.select(EventMember.organiser_id, EventMember.role).where(
                    EventMember.event_id == copy.id
                )
            ).all()
        )
    assert team[door.id] is EventRole.DOOR  # the same volunteer at the next door
    assert team[manager.id] is EventRole.MANAGER


def test_a_monthly_repeat_makes_three_drafts_and_says_where_a_date_moved(app, client, manager):
    logged_in(client, manager)
    response = client.post(
        REPEAT,
        data={
            "csrf_token": csrf_token(client, REPEAT),
            "starts_at": "2027-03-30T18:30",  # the 5th Tuesday of March
            "repeat": "monthly",
            "count": "3",
        },
        follow_redirects=True,
    )

    assert response.request.path == SERIES
    text = text_of(response)
    assert "3 drafts are made in the series." in text
    assert "Tuesday 27 April 2027: that month has no fifth such weekday" in text
    for day in ("Tuesday 30 March 2027", "Tuesday 27 April 2027", "Tuesday 25 May 2027"):
        assert day in text
    assert "/series/solidarity-meeting" in text
    assert [status for _slug, status in _slugs_and_statuses(app)[1:]] == [EventStatus.DRAFT] * 3


def test_the_pages_speak_spanish(client, manager):
    logged_in(client, manager)
    client.get("/language/es")
    assert "Cada mes, el mismo día de la semana del mes" in text_of(client.get(REPEAT))
    assert "Duplicar" in text_of(client.get(DUPLICATE))
    assert "Este evento aún no forma parte de una serie" in text_of(client.get(SERIES))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"starts_at": "2027-03-28T01:30"}, "01:30 does not exist on 2027-03-28"),
        ({"starts_at": "2020-03-28T18:30"}, "The new date must be in the future."),
        ({"starts_at": "tomorrow"}, "Not a valid datetime value."),
        ({"starts_at": "2027-05-03T18:30\x00"}, "Not a valid datetime value."),
        ({"count": "53"}, "Number must be between 1 and 52."),
        ({"count": "\x00"}, "Not a valid integer value."),
        ({"repeat": "daily"}, "Not a valid choice."),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(app, client, manager, fields, message):
    logged_in(client, manager)
    before = snapshot(app)
    data = {"starts_at": "2027-05-03T18:30", "repeat": "weekly", "count": "2", **fields}
    response = client.post(REPEAT, data={"csrf_token": csrf_token(client, REPEAT), **data})
    assert response.status_code == 400
    assert message in text_of(response)
    assert snapshot(app) == before


def test_without_a_csrf_token_nothing_is_made(app, client, manager):
    logged_in(client, manager)
    before = snapshot(app)
    response = client.post(DUPLICATE, data={"starts_at": "2027-05-03T18:30"})
    assert response.status_code == 400
    assert snapshot(app) == before


@pytest.mark.parametrize("role", [EventRole.DOOR, EventRole.VIEWER])
@pytest.mark.parametrize("path", [DUPLICATE, REPEAT, SERIES])
def test_the_door_and_viewers_may_not_copy(app, client, make_event, make_organiser, role, path):
    event = make_event()
    logged_in(client, with_role(app, make_organiser, event.id, role))
    assert client.get(path).status_code == 403
    token = csrf_token(client, "/organisers/")
    assert client.post(
        path, data={"csrf_token": token, "starts_at": "2027-05-03T18:30"}
    ).status_code in (403, 405)
    assert len(_slugs_and_statuses(app)) == 1


@pytest.mark.parametrize("path", [DUPLICATE, REPEAT, SERIES])
def test_someone_not_on_the_event_gets_not_found(app, client, make_event, make_organiser, path):
    make_event()
    stranger = make_event(slug="their-own", title="Their own")
    logged_in(client, manager_of(app, make_organiser("eva@example.org"), stranger.id))
    assert client.get(path).status_code == 404


def test_logged_out_visitors_are_sent_to_log_in(client, make_event):
    make_event()
    response = client.get(DUPLICATE)
    assert response.status_code == 302
    assert response.location.startswith("/organisers/login")


def test_the_series_page_shows_only_the_dates_the_account_may_see(
    app, client, manager, make_organiser
):
    logged_in(client, manager)
    client.post(
        REPEAT,
        data={
            "csrf_token": csrf_token(client, REPEAT),
            "starts_at": "2027-05-03T18:30",
            "repeat": "weekly",
            "count": "2",
        },
    )
    client.post("/organisers/logout", data={"csrf_token": csrf_token(client, "/organisers/")})
    # Someone who manages only the original sees the series without the copies.
    other = manager_of(app, make_organiser("eva@example.org"), _id_of(app, "solidarity-meeting"))
    logged_in(client, other)
    page = client.get(SERIES).get_data(as_text=True)
    assert ">solidarity-meeting<" in page
    assert "solidarity-meeting-2027-05-03" not in page


def _id_of(app, slug: str) -> int:
    with app.app_context():
        return events.get_event(slug).id


def test_a_past_event_suggests_its_next_weekday_to_come(app, client, make_event, make_organiser):
    event = make_event(starts_at="2020-01-06T18:30:00+00:00", ends_at="2020-01-06T20:00:00+00:00")
    logged_in(client, manager_of(app, make_organiser("rosa@example.org"), event.id))
    suggested = re.search(r'name="starts_at"[^>]*value="([^"]+)"', client.get(DUPLICATE).text)
    when = datetime.fromisoformat(suggested.group(1))
    assert when.weekday() == 0 and when.strftime("%H:%M") == "18:30"  # Mondays, 18:30 GMT
    now = datetime.now(LONDON).replace(tzinfo=None)
    assert now < when < now + timedelta(days=8)

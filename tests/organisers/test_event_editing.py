"""Organisers write and run events through the form: no JavaScript, times in the event's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.events import service as events
from service.events.models import EventStatus, SpeakerAnswer
from service.extensions import db
from service.mail.models import OutboxMessage
from service.registration.models import Registration, RegistrationStatus
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in as log_in
from tests.organisers.conftest import manager_of_everything
from tests.registration.fixtures import csrf_token


@pytest.fixture
def logged_in(app, client, make_organiser):
    account = make_organiser("organiser@example.org")
    with manager_of_everything(app, account.id):
        yield log_in(client, account)


def form(client, path: str, **fields) -> dict:
    data = {
        "csrf_token": csrf_token(client, path),
        "title": "Bolivia: what next?",
        "slug": "bolivia-what-next",
        "timezone": "Europe/London",
        "starts_at": "2031-10-26T18:30",
        "ends_at": "2031-10-26T20:00",
        "format": "online",
        "join_url": "https://meet.example.org/next",
        "attendee_reminder_offsets": "1d, 1h",
        "speaker_reminder_offsets": "2d, 2h",
        "speaker_arrival_minutes": "30",
        "supporters": "Friends of Bolivia\nUnite",
        "people-0-name": "Christine Blower",
        "people-0-role": "chair",
        "people-0-position": "2",
        "people-1-name": "Ollie Vargas",
        "people-1-role": "speaker",
        "people-1-position": "1",
        "people-1-affiliation": "Journalist",
        "people-1-email": "ollie@example.org",
    }
    data.update(fields)
    return data


def stored(app):
    with app.app_context():
        event = events.get_event("bolivia-what-next")
        if event is not None:
            event.people, event.supporters  # load them before the session closes
            db.session.expunge_all()
        return event


def test_create_as_draft_then_publish(app, logged_in):
    response = logged_in.post(
        "/organisers/events/new", data=form(logged_in, "/organisers/events/new")
    )
    assert response.status_code == 302
    event = stored(app)
    assert event.status is EventStatus.DRAFT
    assert event.starts_at == datetime(2031, 10, 26, 18, 30, tzinfo=UTC)  # GMT by then
    assert [(p.name, p.role.value) for p in event.people] == [
        ("Ollie Vargas", "speaker"),
        ("Christine Blower", "chair"),
    ]
    assert [s.name for s in event.supporters] == ["Friends of Bolivia", "Unite"]
    assert logged_in.get("/events/bolivia-what-next").status_code == 404
    preview = logged_in.get("/organisers/events/bolivia-what-next/preview")
    assert "Preview: this is how the page looks to the public" in text_of(preview)

    edit = "/organisers/events/bolivia-what-next/edit"
    logged_in.post(
        "/organisers/events/bolivia-what-next/status",
        data={"csrf_token": csrf_token(logged_in, edit), "status": "published"},
    )
    public = text_of(logged_in.get("/events/bolivia-what-next"))
    assert "Sunday 26 October 2031, 18:30 GMT" in public
    assert "Ollie Vargas, Journalist" in public


def test_edit_form_shows_times_in_the_events_zone_and_keeps_people(app, logged_in):
    logged_in.post(
        "/organisers/events/new",
        data=form(
            logged_in,
            "/organisers/events/new",
            starts_at="2031-06-02T19:00",
            ends_at="2031-06-02T21:00",
        ),
    )
    html = logged_in.get("/organisers/events/bolivia-what-next/edit").get_data(as_text=True)
    assert 'value="2031-06-02T19:00"' in html  # BST, as typed
    assert 'value="Ollie Vargas"' in html and 'value="Christine Blower"' in html
    assert html.count('name="people-') >= 4 * 6  # two people and two empty rows


def test_removing_and_reordering_people(app, logged_in):
    logged_in.post("/organisers/events/new", data=form(logged_in, "/organisers/events/new"))
    edit = "/organisers/events/bolivia-what-next/edit"
    logged_in.post(
        edit,
        data=form(
            logged_in,
            edit,
            **{
                "people-0-position": "1",
                "people-1-remove": "y",
                "people-2-name": "Miriam Colque",
                "people-2-role": "speaker",
                "people-2-position": "0",
            },
        ),
    )
    assert [p.name for p in stored(app).people] == ["Miriam Colque", "Christine Blower"]


def test_a_corrected_name_keeps_the_speakers_answer_and_bio(app, logged_in, make_event):
    logged_in.post("/organisers/events/new", data=form(logged_in, "/organisers/events/new"))
    other = make_event(slug="another-meeting", people=[{"name": "Someone Else"}])
    with app.app_context():
        ollie = next(p for p in events.get_event("bolivia-what-next").people if p.position == 0)
        ollie.bio, ollie.answer = "Reports from La Paz.", SpeakerAnswer.CONFIRMED
        db.session.commit()
        ollie_id = ollie.id
        [stranger] = events.get_event(other.slug).people
        stranger_id = stranger.id
    edit = "/organisers/events/bolivia-what-next/edit"
    page = logged_in.get(edit).get_data(as_text=True)
    assert f'name="people-0-person_id" type="hidden" value="{ollie_id}"' in page

    corrected = {"people-0-name": "Ollie Vargas Jr", "people-0-person_id": str(ollie_id)}
    corrected |= {"people-0-role": "speaker", "people-0-position": "1"}
    corrected |= {"people-1-name": "Christine Blower", "people-1-role": "chair"}
    corrected |= {"people-1-person_id": str(stranger_id), "people-1-position": "2"}
    corrected |= {"people-0-affiliation": "Journalist", "people-0-email": "ollie@example.org"}
    corrected |= {"people-1-affiliation": "", "people-1-email": ""}
    assert logged_in.post(edit, data=form(logged_in, edit, **corrected)).status_code == 302
    speaker, chair = stored(app).people
    assert (speaker.id, speaker.name) == (ollie_id, "Ollie Vargas Jr")
    assert (speaker.bio, speaker.answer) == ("Reports from La Paz.", SpeakerAnswer.CONFIRMED)
    # Another event's person is nobody here: Christine stays herself, matched by her name.
    assert chair.id != stranger_id and chair.name == "Christine Blower"
    with app.app_context():
        assert [p.name for p in events.get_event(other.slug).people] == ["Someone Else"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"starts_at": "2031-03-30T01:30"}, "That time does not exist in Europe/London"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"slug": "Not A Slug"}, "Use lower-case letters, digits and hyphens."),
        ({"attendee_reminder_offsets": "tomorrow"}, "Write times like 1d, 2h or 30m"),
        ({"ends_at": "2031-10-26T17:00"}, "ends_at must be after starts_at"),
        ({"join_url": "meet dot example"}, "Enter a full web address."),
        ({"title": "Bad\x00title"}, "Please remove the invisible control characters"),
        ({"title": " \u200b\u00a0\ufeff "}, "This field is required."),
    ],
)
def test_mistakes_get_a_clear_message_and_keep_the_input(app, logged_in, fields, message):
    response = logged_in.post(
        "/organisers/events/new", data=form(logged_in, "/organisers/events/new", **fields)
    )
    assert response.status_code == 400
    assert message in text_of(response)
    assert 'value="Ollie Vargas"' in response.get_data(as_text=True)
    assert stored(app) is None


def test_another_events_slug_is_refused(app, logged_in, make_event):
    make_event(slug="taken")
    response = logged_in.post(
        "/organisers/events/new", data=form(logged_in, "/organisers/events/new", slug="taken")
    )
    assert response.status_code == 400
    assert "Another event has this address." in text_of(response)


def test_organisers_only(client):
    assert client.get("/organisers/events/new").status_code == 302
    assert client.post("/organisers/events/new", data={}).status_code in (302, 400)
    later = datetime.now(UTC) + timedelta(days=1)
    assert later  # the public site is untouched


def test_resend_and_cancel_on_someones_behalf(app, logged_in, make_event, make_registration):
    event = make_event(capacity=1)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    first = make_registration(event.id, "first@example.org", created_at=now)
    make_registration(
        event.id, "next@example.org", created_at=now, status=RegistrationStatus.WAITING
    )
    page = "/organisers/events/solidarity-meeting/attendees"
    logged_in.post(f"{page}/{first.id}/resend", data={"csrf_token": csrf_token(logged_in, page)})
    with app.app_context():
        assert [m.recipient for m in db.session.scalars(select(OutboxMessage))] == [
            "first@example.org"
        ]
    logged_in.post(f"{page}/{first.id}/cancel", data={"csrf_token": csrf_token(logged_in, page)})
    with app.app_context():
        statuses = {r.email: r.status for r in db.session.scalars(select(Registration))}
    assert statuses == {
        "first@example.org": RegistrationStatus.CANCELLED,
        "next@example.org": RegistrationStatus.CONFIRMED,
    }
    other = make_event(slug="other-event")
    assert (
        logged_in.post(
            f"/organisers/events/other-event/attendees/{first.id}/cancel",
            data={"csrf_token": csrf_token(logged_in, page)},
        ).status_code
        == 404
    )
    assert other


@pytest.mark.parametrize("path", ["/organisers/events/new", "/organisers/statements/new"])
def test_the_address_hint_shows_where_the_page_will_be(logged_in, path):
    """The hint names its placeholder as text; as markup, "<slug>" vanished from the page."""
    page = logged_in.get(path)
    assert page.status_code == 200
    hint = text_of(page)
    assert f"The page will be /{path.split('/')[2]}/<slug>." in hint

"""An organiser invites a speaker; the speaker answers on their own page; the event page and
the organisers' speakers page follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.db import utc_now
from service.events import speakers
from service.extensions import db
from service.mail import service as mail
from tests.organisers.conftest import logged_in, snapshot
from tests.registration.fixtures import csrf_token
from tests.speakers.conftest import link_in

SPEAKERS_PAGE = "/organisers/events/solidarity-meeting/speakers"
EVENT_PAGE = "/events/solidarity-meeting"


def add_speaker(client, **fields):
    data = {
        "csrf_token": csrf_token(client, SPEAKERS_PAGE),
        "name": "Evo Quispe",
        "role": "speaker",
        "affiliation": "",
        "email": "evo@example.org",
        "language": "en",
        "invite": "Add and invite",
        **fields,
    }
    return client.post(SPEAKERS_PAGE, data=data)


def dispatch(app) -> int:
    with app.app_context():
        return mail.dispatch_due(utc_now()).sent


@pytest.fixture
def invited(app, client, smtp, organiser, make_event):
    """Evo, invited in English from the speakers page; returns his link's path."""
    make_event()
    logged_in(client, organiser)
    assert add_speaker(client).status_code == 302
    dispatch(app)
    [invitation] = smtp.to("evo@example.org")
    return link_in(invitation)


def answer(client, link, **fields):
    data = {
        "csrf_token": csrf_token(client, link),
        "answer": "confirmed",
        "name": "Evo Quispe",
        "affiliation": "CSUTCB",
        "bio": "",
        "bio_es": "",
        **fields,
    }
    return client.post(link, data=data)


def test_an_invitation_goes_once_in_english_with_a_personal_link(app, client, smtp, invited):
    assert dispatch(app) == 0  # sent once: the next dispatch finds nothing
    [invitation] = smtp.to("evo@example.org")
    assert invitation["Subject"] == "Invitation to speak: Solidarity meeting"
    text = invitation.get_body(("plain",)).get_content()
    assert "Hello Evo Quispe," in text
    assert "Monday 19 April 2027, 18:30 BST" in text
    assert invited.startswith("/speak/")
    page = client.get(SPEAKERS_PAGE).get_data(as_text=True)
    assert "Invited on" in page and "Invite again" in page


def test_a_spanish_speaker_is_invited_in_spanish(app, client, smtp, organiser, make_event):
    make_event()
    logged_in(client, organiser)
    add_speaker(client, name="Ana Choque", email="ana@example.org", language="es")
    assert dispatch(app) == 1
    [invitation] = smtp.to("ana@example.org")
    assert invitation["Subject"] == "Invitación para intervenir: Reunión de solidaridad"
    assert invitation["Content-Language"] == "es"
    assert "lunes, 19 de abril de 2027" in invitation.get_body(("plain",)).get_content().lower()


def test_an_invitation_needs_an_address_and_says_so(app, client, smtp, organiser, make_event):
    make_event()
    logged_in(client, organiser)
    before = snapshot(app)
    response = add_speaker(client, email="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "An invitation needs an email address." in page
    assert 'value="Evo Quispe"' in page  # what was typed is kept
    assert snapshot(app) == before
    assert add_speaker(client, email="", add="Add without inviting", invite="").status_code == 302
    assert "Not invited (no email)" in client.get(SPEAKERS_PAGE).get_data(as_text=True)


def test_the_speakers_page_shows_each_state(app, client, smtp, invited, make_event):
    page = client.get(SPEAKERS_PAGE).get_data(as_text=True)
    # Ollie and Christine came from the event's form with addresses but no invitation yet.
    assert page.count("Not invited") == 2
    speaker = app.test_client()
    answer(speaker, invited)
    page = client.get(SPEAKERS_PAGE).get_data(as_text=True)
    assert "Confirmed on" in page
    answer(speaker, invited, answer="declined")
    assert "Declined on" in client.get(SPEAKERS_PAGE).get_data(as_text=True)


def test_the_speakers_page_is_private_and_its_link_is_personal(app, client, invited):
    speaker = app.test_client()
    response = speaker.get(invited)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in page
    assert "Hello Evo Quispe" in page
    assert "evo@example.org" not in page
    altered = invited[:-3] + ("aaa" if not invited.endswith("aaa") else "bbb")
    assert speaker.get(altered).status_code == 404
    assert speaker.get("/speak/not-a-token").status_code == 404


def test_the_link_expires_when_the_event_ends(app, invited):
    token = invited.removeprefix("/speak/")
    with app.app_context():
        assert speakers.person_from_link(token, datetime(2027, 4, 19, 18, 59, tzinfo=UTC))
        assert speakers.person_from_link(token, datetime(2027, 4, 19, 19, 0, tzinfo=UTC)) is None


def test_inviting_again_revokes_the_link_sent_before(app, client, smtp, invited, person_named):
    person = person_named("Evo Quispe")
    path = f"{SPEAKERS_PAGE}/{person.id}/invite"
    response = client.post(
        path, data={"csrf_token": csrf_token(client, SPEAKERS_PAGE), "language": "es"}
    )
    assert response.status_code == 302
    assert "the link sent before no longer works" in client.get(SPEAKERS_PAGE).get_data(
        as_text=True
    )
    dispatch(app)
    _first, second = smtp.to("evo@example.org")
    assert second["Subject"].startswith("Invitación")
    speaker = app.test_client()
    assert speaker.get(invited).status_code == 404
    assert speaker.get(link_in(second)).status_code == 200


def test_a_refused_invite_form_sends_nothing(app, client, smtp, invited, person_named):
    person = person_named("Evo Quispe")
    path = f"{SPEAKERS_PAGE}/{person.id}/invite"
    before = snapshot(app)
    assert client.post(path, data={"language": "en"}).status_code == 400  # no CSRF token
    token = csrf_token(client, SPEAKERS_PAGE)
    response = client.post(path, data={"csrf_token": token, "language": "fr"})
    assert response.status_code == 400
    assert "please choose its language from the list" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_confirmed_speakers_bio_shows_on_the_event_page_sanitised(app, client, invited):
    speaker = app.test_client()
    response = answer(
        speaker,
        invited,
        name="Evo Quispe Mamani",
        bio="Organiser with **the peasant union**.<script>alert(1)</script>",
        bio_es="Dirigente del **sindicato campesino**.",
    )
    assert response.status_code == 302
    page = speaker.get(response.location).get_data(as_text=True)
    assert "Thank you: you are confirmed." in page
    assert 'value="Evo Quispe Mamani"' in page  # their own corrections come back to them
    event_page = app.test_client().get(EVENT_PAGE).get_data(as_text=True)
    assert "Evo Quispe Mamani" in event_page
    assert "<strong>the peasant union</strong>" in event_page
    assert "<script>alert" not in event_page
    spanish = app.test_client().get(EVENT_PAGE, headers={"Accept-Language": "es"})
    assert "<strong>sindicato campesino</strong>" in spanish.get_data(as_text=True)


def test_a_bio_before_confirming_is_not_shown(app, invited):
    speaker = app.test_client()
    with app.app_context():
        person = speakers.person_from_link(invited.removeprefix("/speak/"), utc_now())
        assert person is not None
        person.bio = "Unconfirmed words"
        db.session.commit()
    assert "Unconfirmed words" not in speaker.get(EVENT_PAGE).get_data(as_text=True)


def test_a_speaker_who_declines_leaves_the_event_page(app, invited):
    speaker = app.test_client()
    assert "Evo Quispe" in speaker.get(EVENT_PAGE).get_data(as_text=True)
    response = answer(speaker, invited, answer="declined")
    assert response.status_code == 302
    assert "You will not be listed" in speaker.get(response.location).get_data(as_text=True)
    assert "Evo Quispe" not in speaker.get(EVENT_PAGE).get_data(as_text=True)
    assert "Ollie Vargas" in speaker.get(EVENT_PAGE).get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Please tell us your name."),
        ({"answer": ""}, "Please say whether you will take part."),
        ({"answer": "maybe"}, "Not a valid choice"),
        ({"bio": "x" * 1501}, "Field cannot be longer than 1500 characters."),
        ({"bio": "Kept words\x00 and a NUL"}, ""),
        ({"name": "Evo\x00"}, ""),
    ],
)
def test_bad_answers_are_refused_clearly_and_lose_nothing(app, invited, fields, message):
    speaker = app.test_client()
    before = snapshot(app)
    response = answer(speaker, invited, affiliation="Kept affiliation", **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please check the form: something needs changing." in page
    assert message in page
    assert 'value="Kept affiliation"' in page
    assert snapshot(app) == before


def test_the_answer_form_needs_its_csrf_token(app, invited):
    speaker = app.test_client()
    speaker.get(invited)
    before = snapshot(app)
    response = speaker.post(invited, data={"answer": "confirmed", "name": "Evo"})
    assert response.status_code == 400
    assert snapshot(app) == before


def test_the_speaker_sees_the_time_in_a_zone_they_choose(app, invited):
    speaker = app.test_client()
    page = speaker.get(invited + "?zone=America/La_Paz").get_data(as_text=True)
    assert "In America/La_Paz: Monday 19 April 2027, 13:30" in page
    page = speaker.get(invited + "?zone=Mars/Olympus").get_data(as_text=True)
    assert "Unknown time zone" in page
    assert speaker.get(invited + "?zone=Europe/Lon%00don").status_code == 400


def test_a_door_volunteer_cannot_manage_speakers_and_an_outsider_sees_nothing(
    app, client, make_event, make_organiser, smtp
):
    from service.access import service as access
    from service.access.models import EventRole

    event = make_event()
    door = make_organiser("door@example.org")
    outsider = make_organiser("outsider@example.org")
    with app.app_context():
        access.grant_event_role(door.id, event.id, EventRole.DOOR)
    logged_in(client, door)
    assert client.get(SPEAKERS_PAGE).status_code == 403
    outsiders = app.test_client()
    logged_in(outsiders, outsider)
    assert outsiders.get(SPEAKERS_PAGE).status_code == 404
    assert app.test_client().get(SPEAKERS_PAGE).status_code == 302  # to the login


def test_stale_links_keep_the_old_meaning_after_the_speaker_is_removed(app, invited):
    """A person taken off the bill in the event's form: their link names nobody."""
    with app.app_context():
        person = speakers.person_from_link(invited.removeprefix("/speak/"), utc_now())
        assert person is not None
        db.session.delete(person)
        db.session.commit()
    assert app.test_client().get(invited).status_code == 404


def test_the_invitation_page_after_the_event_is_gone(app, invited):
    with app.app_context():
        assert (
            speakers.person_from_link(
                invited.removeprefix("/speak/"), utc_now() + timedelta(days=3650)
            )
            is None
        )


def test_a_speaker_who_declined_leaves_the_json_api(app, invited):
    answer(app.test_client(), invited, answer="declined")
    document = app.test_client().get("/api/events/solidarity-meeting").get_json()
    assert [person["name"] for person in document["people"]] == [
        "Ollie Vargas",
        "Christine Blower",
    ]


def test_the_events_managers_are_told_of_an_answer_once(app, smtp, invited):
    speaker = app.test_client()
    answer(speaker, invited, bio="First words")
    answer(speaker, invited, bio="Second words")  # the same answer again: no new mail
    dispatch(app)
    [told] = smtp.to("rosa@example.org")
    assert told["Subject"] == "Evo Quispe confirmed: Solidarity meeting"
    text = told.get_body(("plain",)).get_content()
    assert "Evo Quispe has confirmed they will take part" in text
    assert "https://events.example.org/organisers/events/solidarity-meeting/speakers" in text
    answer(speaker, invited, answer="declined")
    dispatch(app)
    assert smtp.to("rosa@example.org")[-1]["Subject"] == "Evo Quispe declined: Solidarity meeting"

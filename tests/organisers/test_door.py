"""The door on a phone: counts, the search, one check-in a person, the undo of one's own last
check-in, who may use it, and the check-in link the confirmation's QR code carries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from service.access import service as access
from service.access.models import EventRole
from service.audit.models import AuditEntry
from service.extensions import db
from service.registration import checkin, roster
from service.registration.links import manage_url
from service.registration.models import Registration, RegistrationStatus
from tests.organisers.conftest import csrf_token, logged_in, login, snapshot

SLUG = "solidarity-meeting"
DOOR = f"/organisers/events/{SLUG}/door"
REGISTERED_AT = datetime(2027, 3, 1, 12, tzinfo=UTC)
PERSON = re.compile(r'<li class="door__person" id="person-(\d+)"')


def people_on(response) -> list[int]:
    return [int(found) for found in PERSON.findall(response.get_data(as_text=True))]


def checked_in_at(app, registration_id: int) -> datetime | None:
    with app.app_context():
        return db.session.get(Registration, registration_id).checked_in_at


def check_in(client, registration_id: int, q: str = ""):
    token = csrf_token(client, DOOR)
    return client.post(f"{DOOR}/{registration_id}/check-in", data={"csrf_token": token, "q": q})


def undo(client, q: str = ""):
    token = csrf_token(client, DOOR)
    return client.post(f"{DOOR}/undo", data={"csrf_token": token, "q": q})


def audit_actions(app) -> list[str]:
    """What the audit says was done to attendees (logins aside)."""
    with app.app_context():
        query = select(AuditEntry.action).where(AuditEntry.action.startswith("attendees."))
        return list(db.session.scalars(query.order_by(AuditEntry.id)))


@pytest.fixture
def door(app, make_event, make_registration):
    """A meeting with Ana and Bea confirmed, Carmen waiting and Dolores cancelled."""
    event = make_event(format="hybrid", venue="Bolivar Hall")

    def person(email, name, status=RegistrationStatus.CONFIRMED, **fields):
        return make_registration(
            event.id, email, name=name, status=status, created_at=REGISTERED_AT, **fields
        )

    return {
        "event": event,
        "ana": person("ana@example.org", "Ana López", organisation="Unite"),
        "bea": person("bea@example.org", "Bea Quispe"),
        "carmen": person("carmen@example.org", "Carmen Ruiz", RegistrationStatus.WAITING),
        "dolores": person("dolores@example.org", "Dolores Ibárruri", RegistrationStatus.CANCELLED),
    }


@pytest.fixture
def volunteer(app, make_organiser, door):
    """An account with the door role on the meeting, and nothing else."""
    account = make_organiser("volunteer@example.org")
    with app.app_context():
        access.grant_event_role(account.id, door["event"].id, EventRole.DOOR)
    return account


# --- The page ----------------------------------------------------------------------------------


def test_the_door_shows_the_counts_and_the_confirmed_people_by_name(client, volunteer, door):
    logged_in(client, volunteer)
    response = client.get(DOOR)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r"<strong>0</strong> / 2 checked in", page)
    assert people_on(response) == [door["ana"].id, door["bea"].id]
    assert 'Check in<span class="visually-hidden"> Ana López</span>' in page  # heard by name
    assert "ana@example.org" not in page  # the door role sees no emails


def test_the_search_ignores_case_and_accents(client, volunteer, door):
    logged_in(client, volunteer)
    for query in ("lopez", "LÓPEZ", "ana l", "unite"):
        assert people_on(client.get(DOOR, query_string={"q": query})) == [door["ana"].id], query
    assert people_on(client.get(DOOR, query_string={"q": "ibarruri"})) == [door["dolores"].id]


def test_a_search_finds_the_waiting_and_the_cancelled_without_a_button(client, volunteer, door):
    logged_in(client, volunteer)
    response = client.get(DOOR, query_string={"q": "r"})  # Carmen Ruiz, Dolores Ibárruri
    page = response.get_data(as_text=True)
    assert people_on(response) == [door["carmen"].id, door["dolores"].id]
    assert "On the waiting list: no place yet" in page and "Cancelled their place" in page
    assert "Check in Carmen" not in page and "Check in Dolores" not in page


def test_the_door_role_cannot_search_by_email_but_a_manager_can(
    app, client, volunteer, organiser, door
):
    logged_in(client, volunteer)
    assert people_on(client.get(DOOR, query_string={"q": "bea@"})) == []
    manager = app.test_client()
    logged_in(manager, organiser)
    assert people_on(manager.get(DOOR, query_string={"q": "bea@"})) == [door["bea"].id]


def test_a_nul_byte_in_the_search_is_bad_input_not_an_error(app, client, volunteer, door):
    logged_in(client, volunteer)
    assert client.get(DOOR, query_string={"q": "ana\x00"}).status_code == 400
    response = check_in(client, door["ana"].id, q="ana\x00")  # kept as the search: dropped
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.location).query) == {"q": ["ana"]}
    assert checked_in_at(app, door["ana"].id) is not None


def test_markup_in_a_name_is_shown_as_text(client, volunteer, door, make_registration):
    make_registration(
        door["event"].id, "eve@example.org", name="<b>Eve</b>", created_at=REGISTERED_AT
    )
    logged_in(client, volunteer)
    page = client.get(DOOR, query_string={"q": "eve"}).get_data(as_text=True)
    assert "&lt;b&gt;Eve&lt;/b&gt;" in page and "<b>Eve</b>" not in page


# --- Checking in and undoing -------------------------------------------------------------------


def test_check_in_returns_to_the_same_search_with_an_undo_banner(app, client, volunteer, door):
    logged_in(client, volunteer)
    response = check_in(client, door["ana"].id, q="lopez")
    assert response.status_code == 302
    assert response.location == f"{DOOR}?q=lopez"
    assert checked_in_at(app, door["ana"].id) is not None

    page = client.get(response.location).get_data(as_text=True)
    assert "Checked in Ana López —" in page
    assert f'action="{DOOR}/undo"' in page
    assert re.search(r"<strong>1</strong> / 2 checked in", page)
    assert "Check in Ana López" not in page and "✓ Checked in" in page
    assert audit_actions(app) == ["attendees.check_in"]


def test_undo_takes_back_only_the_last_check_in(app, client, volunteer, door):
    logged_in(client, volunteer)
    check_in(client, door["ana"].id)
    check_in(client, door["bea"].id)
    assert "Checked in Bea Quispe —" in client.get(DOOR).get_data(as_text=True)

    assert undo(client).status_code == 302
    assert checked_in_at(app, door["bea"].id) is None
    assert checked_in_at(app, door["ana"].id) is not None
    page = client.get(DOOR).get_data(as_text=True)
    assert "Check-in undone." in page and f"{DOOR}/undo" not in page

    undo(client)  # nothing left to undo: Ana's check-in was not the last one
    assert checked_in_at(app, door["ana"].id) is not None
    assert audit_actions(app) == [
        "attendees.check_in",
        "attendees.check_in",
        "attendees.check_in_undo",
    ]


def test_a_volunteer_cannot_undo_someone_elses_check_in(app, client, volunteer, organiser, door):
    logged_in(client, volunteer)
    check_in(client, door["ana"].id)
    other = app.test_client()
    logged_in(other, organiser)
    check_in(other, door["ana"].id)  # already in: the second tap is not theirs to undo
    assert "Ana López was already checked in at" in other.get(DOOR).get_data(as_text=True)
    assert f"{DOOR}/undo" not in other.get(DOOR).get_data(as_text=True)

    response = undo(other)
    assert response.status_code == 302
    assert "can no longer be undone" in other.get(DOOR).get_data(as_text=True)
    assert checked_in_at(app, door["ana"].id) is not None
    assert audit_actions(app) == ["attendees.check_in"]  # one entry: one check-in


def test_an_undo_after_someone_checked_the_person_in_again_changes_nothing(
    app, client, volunteer, door
):
    logged_in(client, volunteer)
    check_in(client, door["ana"].id)
    with app.app_context():  # meanwhile, on the attendee table, out and in again
        roster.set_checked_in(door["ana"].id, door["event"].id, False, datetime.now(UTC))
        roster.set_checked_in(
            door["ana"].id, door["event"].id, True, datetime.now(UTC) + timedelta(seconds=2)
        )
    undo(client)
    assert checked_in_at(app, door["ana"].id) is not None


def test_the_undo_lasts_a_few_minutes(app, door):
    ana, event_id = door["ana"].id, door["event"].id
    at = datetime(2027, 4, 19, 17, 35, tzinfo=UTC)
    with app.app_context():
        assert roster.set_checked_in(ana, event_id, True, at)
        assert not roster.undo_check_in(
            ana, event_id, at, at + roster.UNDO_WINDOW + timedelta(seconds=1)
        )
        assert db.session.get(Registration, ana).checked_in_at == at
        assert roster.undo_check_in(ana, event_id, at, at + roster.UNDO_WINDOW)
        assert db.session.get(Registration, ana).checked_in_at is None


def test_someone_waiting_or_cancelled_cannot_be_checked_in(app, client, volunteer, door):
    logged_in(client, volunteer)
    before = snapshot(app)
    for name in ("carmen", "dolores"):
        response = check_in(client, door[name].id)
        assert response.status_code == 302
        assert checked_in_at(app, door[name].id) is None
        said = client.get(DOOR).get_data(as_text=True)
        assert f"{door[name].name} has no confirmed place: they cannot be checked in." in said
    assert snapshot(app) == before


def test_a_registration_of_another_event_is_not_found(
    app, client, organiser, door, make_event, make_registration
):
    other = make_event(slug="another-meeting")
    eva = make_registration(other.id, "eva@example.org", created_at=REGISTERED_AT)
    logged_in(client, organiser)
    assert check_in(client, eva.id).status_code == 404
    assert checked_in_at(app, eva.id) is None


# --- Who may use it ----------------------------------------------------------------------------


def test_only_the_events_door_team_may_use_the_door(app, client, make_organiser, door):
    viewer = make_organiser("viewer@example.org")
    stranger = make_organiser("stranger@example.org")
    with app.app_context():
        access.grant_event_role(viewer.id, door["event"].id, EventRole.VIEWER)
    logged_in(client, viewer)
    assert client.get(DOOR).status_code == 403  # a viewer may look, not check in
    outsider = app.test_client()
    logged_in(outsider, stranger)
    assert outsider.get(DOOR).status_code == 404
    assert "Ana" not in outsider.get(DOOR).get_data(as_text=True)


def test_the_attendee_list_links_to_the_door_for_those_who_may_check_in(
    app, client, volunteer, make_organiser, door
):
    logged_in(client, volunteer)
    assert f'href="{DOOR}"' in client.get(f"/organisers/events/{SLUG}/attendees").get_data(
        as_text=True
    )
    viewer = make_organiser("viewer@example.org")
    with app.app_context():
        access.grant_event_role(viewer.id, door["event"].id, EventRole.VIEWER)
    other = app.test_client()
    logged_in(other, viewer)
    page = other.get(f"/organisers/events/{SLUG}/attendees").get_data(as_text=True)
    assert f'href="{DOOR}"' not in page


# --- The check-in link -------------------------------------------------------------------------


def link_for(app, registration_id: int) -> str:
    with app.app_context(), app.test_request_context():
        url = checkin.checkin_url(db.session.get(Registration, registration_id))
    return urlsplit(url).path


def test_the_link_leads_a_stranger_to_the_login_and_back(app, client, volunteer, door):
    path = link_for(app, door["ana"].id)
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.path == "/organisers/login" and parse_qs(location.query)["next"] == [path]
    assert "Ana" not in client.get(response.location).get_data(as_text=True)

    logged = login(client, volunteer.email, volunteer.password, next_path=path)
    assert logged.status_code == 302 and logged.location == path
    page = client.get(path).get_data(as_text=True)
    assert "Ana López" in page and "Has a confirmed place." in page
    assert "ana@example.org" not in page


def test_the_link_checks_the_person_in_and_leads_to_the_door(app, client, volunteer, door):
    path = link_for(app, door["ana"].id)
    logged_in(client, volunteer)
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302 and response.location == path
    assert checked_in_at(app, door["ana"].id) is not None
    page = client.get(path).get_data(as_text=True)
    assert "✓ Checked in" in page and f'href="{DOOR}"' in page
    assert "Checked in Ana López —" in client.get(DOOR).get_data(as_text=True)  # undoable
    assert audit_actions(app) == ["attendees.check_in"]


def test_a_strangers_post_to_the_link_changes_nothing(app, client, door):
    path = link_for(app, door["ana"].id)
    before = snapshot(app)
    token = csrf_token(client, "/organisers/login")
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302 and urlsplit(response.location).path == "/organisers/login"
    assert snapshot(app) == before


def test_the_link_is_not_found_for_an_organiser_not_on_the_event(app, client, make_organiser, door):
    path = link_for(app, door["ana"].id)
    logged_in(client, make_organiser("stranger@example.org"))
    response = client.get(path)
    assert response.status_code == 404
    assert "Ana" not in response.get_data(as_text=True)


def test_the_link_is_forbidden_to_a_viewer(app, client, make_organiser, door):
    viewer = make_organiser("viewer@example.org")
    with app.app_context():
        access.grant_event_role(viewer.id, door["event"].id, EventRole.VIEWER)
    logged_in(client, viewer)
    assert client.get(link_for(app, door["ana"].id)).status_code == 403


def test_a_bad_link_is_a_clear_page_in_the_visitors_language(app, client, volunteer, door):
    logged_in(client, volunteer)
    with app.app_context(), app.test_request_context():  # a real token, for another purpose
        manage_link = manage_url(db.session.get(Registration, door["ana"].id))
    tampered = link_for(app, door["ana"].id)[:-2] + "xx"
    another_purpose = "/checkin/" + manage_link.rsplit("/", 1)[1]
    for path in ("/checkin/nonsense", tampered, another_purpose, "/checkin/%00"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in response.get_data(as_text=True)
    client.set_cookie("convoca_lang", "es")
    spanish = client.get("/checkin/nonsense")
    assert spanish.status_code == 404
    assert "Página no encontrada" in spanish.get_data(as_text=True)


def test_a_new_secret_or_a_cancellation_kills_the_link(app, client, volunteer, door):
    ana_path = link_for(app, door["ana"].id)
    bea_path = link_for(app, door["bea"].id)
    with app.app_context():
        db.session.get(Registration, door["ana"].id).link_secret = "a-new-secret"
        db.session.get(Registration, door["bea"].id).status = RegistrationStatus.CANCELLED
        db.session.commit()
    logged_in(client, volunteer)
    assert client.get(ana_path).status_code == 404
    assert client.get(bea_path).status_code == 404


def test_the_link_expires_a_day_after_the_event(app, door):
    with app.app_context(), app.test_request_context():
        ana = db.session.get(Registration, door["ana"].id)
        token = checkin.checkin_url(ana).rsplit("/", 1)[1]
        ends = ana.event.ends_at
        assert checkin.registration_from_checkin_token(token, ends + timedelta(hours=23)) == ana
        assert checkin.registration_from_checkin_token(token, ends + timedelta(days=1)) is None


def test_the_door_and_the_link_are_never_stored_and_the_session_holds_no_name(
    app, client, volunteer, door
):
    path = link_for(app, door["ana"].id)
    logged_in(client, volunteer)
    check_in(client, door["ana"].id, q="ana")
    for response in (client.get(DOOR), client.get(path), client.get("/checkin/nonsense")):
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    session = app.session_interface.get_signing_serializer(app).loads(
        client.get_cookie("session").value
    )
    assert "Ana" not in str(session) and "ana@" not in str(session)

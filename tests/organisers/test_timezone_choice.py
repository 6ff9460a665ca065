"""The event form's time zone: a text box with a searchable list of IANA zones, the group's
usual ones first, still checked on the server."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

import pytest

from service.events import service as events
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in as log_in
from tests.organisers.conftest import manager_of_everything
from tests.organisers.test_event_editing import form

NEW = "/organisers/events/new"


@pytest.fixture
def organiser_client(app, client, make_organiser):
    account = make_organiser("organiser@example.org")
    with manager_of_everything(app, account.id):
        yield log_in(client, account)


def offered(page: str) -> list[str]:
    listed = re.search(r'<datalist id="timezone-choices">(.*?)</datalist>', page, re.S)
    assert listed, "no list of time zones"
    return re.findall(r'<option value="([^"]+)">', listed.group(1))


def test_the_groups_zones_come_first_most_used_first(organiser_client, make_event):
    make_event(slug="tokyo", timezone="Asia/Tokyo")
    make_event(slug="bogota-1", timezone="America/Bogota")
    make_event(slug="bogota-2", timezone="America/Bogota")
    page = organiser_client.get(NEW).get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="timezone"[^>]*>', page)
    assert 'list="timezone-choices"' in box
    zones = offered(page)
    assert zones[:4] == ["America/Bogota", "Asia/Tokyo", "Europe/London", "America/La_Paz"]
    assert sorted(zones) == sorted(available_timezones())  # each once, and all of them
    assert zones[4:] == sorted(zones[4:])


def test_without_events_london_and_la_paz_lead(app):
    with app.app_context():
        assert events.timezone_choices()[:2] == ["Europe/London", "America/La_Paz"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/london", "Europe/London\x00", "../etc"])
def test_a_zone_not_on_the_list_is_refused_with_a_clear_message(app, organiser_client, zone):
    response = organiser_client.post(NEW, data=form(organiser_client, NEW, timezone=zone))
    assert response.status_code == 400
    text = text_of(response)
    assert "Unknown time zone: choose one from the list, like Europe/London." in text
    with app.app_context():
        assert events.get_event("bolivia-what-next") is None


def test_a_chosen_zone_is_saved_even_with_spaces_around_it(app, organiser_client):
    response = organiser_client.post(
        NEW, data=form(organiser_client, NEW, timezone=" America/La_Paz ")
    )
    assert response.status_code == 302
    with app.app_context():
        assert events.get_event("bolivia-what-next").timezone == "America/La_Paz"


def test_the_list_is_spanish_too(organiser_client):
    organiser_client.get("/language/es")
    response = organiser_client.get(NEW)
    assert "Empieza a escribir una ciudad o región" in text_of(response)
    assert offered(response.get_data(as_text=True))[0] == "Europe/London"

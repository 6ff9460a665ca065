"""Organisers and hybrid events: the attendee list's part column and filter, the export's
``mode`` and ``attended`` columns."""

from __future__ import annotations

import pytest

from service.registration import roster
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in
from tests.organisers.test_export import export, read_csv
from tests.registration.test_hybrid import HYBRID, ONLINE, ROOM, SLUG, STARTS, register


@pytest.fixture
def hybrid(make_event):
    return make_event(**HYBRID, capacity=2, online_capacity=1)


def test_the_attendee_list_shows_and_filters_the_part(app, client, organiser, hybrid):
    register(app, "roomie", ROOM)
    register(app, "onliner", ONLINE)
    logged_in(client, organiser)
    page = text_of(client.get(f"/organisers/events/{SLUG}/attendees"))
    assert "In the room and online" in page
    assert "roomie" in page and "onliner" in page
    online_only = text_of(client.get(f"/organisers/events/{SLUG}/attendees?part=online"))
    assert "onliner" in online_only and "roomie" not in online_only


def test_the_export_says_the_part_and_who_attended(app, client, organiser, hybrid):
    room = register(app, "room", ROOM)
    register(app, "online", ONLINE)
    register(app, "absent", ROOM)  # a place in the room, never came
    with app.app_context():
        roster.set_checked_in(room, hybrid.id, True, STARTS)
    logged_in(client, organiser)
    header, *rows = read_csv(export(client, columns=["name", "mode", "attended"]).get_data())
    assert header == ["name", "mode", "attended"]
    assert rows == [
        ["room", "in_person", "yes"],
        ["online", "online", "no"],
        ["absent", "in_person", "no"],
    ]

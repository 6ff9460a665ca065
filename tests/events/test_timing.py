"""Times shown in the event's zone and the audience's zones, across DST changes."""

from __future__ import annotations

import pytest

from tests.events.test_pages import text_of


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "shown", "la_paz", "until"),
    [
        # Winter: London on GMT, La Paz 4 hours behind.
        (
            "2027-01-18T18:30:00+00:00",
            "2027-01-18T20:00:00+00:00",
            "Monday 18 January 2027, 18:30 GMT",
            "14:30 in La Paz",
            "until 20:00 GMT",
        ),
        # Summer: London on BST, La Paz 5 hours behind.
        (
            "2027-04-19T17:30:00+00:00",
            "2027-04-19T19:00:00+00:00",
            "Monday 19 April 2027, 18:30 BST",
            "13:30 in La Paz",
            "until 20:00 BST",
        ),
        # Clocks go forward at 01:00 GMT on Sunday 28 March 2027: a meeting across the change.
        (
            "2027-03-28T00:30:00+00:00",
            "2027-03-28T02:30:00+00:00",
            "Sunday 28 March 2027, 00:30 GMT",
            "20:30 on Saturday 27 March in La Paz",
            "until 03:30 BST",
        ),
        # Clocks go back at 01:00 GMT on Sunday 31 October 2027: 01:30 happens twice.
        (
            "2027-10-31T00:30:00+00:00",
            "2027-10-31T02:00:00+00:00",
            "Sunday 31 October 2027, 01:30 BST",
            "20:30 on Saturday 30 October in La Paz",
            "until 02:00 GMT",
        ),
        (
            "2027-10-31T01:30:00+00:00",
            "2027-10-31T02:30:00+00:00",
            "Sunday 31 October 2027, 01:30 GMT",
            "21:30 on Saturday 30 October in La Paz",
            "until 02:30 GMT",
        ),
    ],
)
def test_london_event_times_across_dst(
    client, make_event, starts_at, ends_at, shown, la_paz, until
):
    make_event(starts_at=starts_at, ends_at=ends_at)
    page = text_of(client.get("/events/solidarity-meeting"))
    assert shown in page
    assert la_paz in page
    assert until in page


def test_event_in_a_zone_without_dst(client, make_event):
    """An event in La Paz (UTC-4 all year) shows London as the other zone, both seasons."""
    make_event(
        timezone="America/La_Paz",
        extra_timezones=[],
        starts_at="2027-07-05T19:00:00-04:00",
        ends_at="2027-07-05T21:00:00-04:00",
    )
    page = text_of(client.get("/events/solidarity-meeting"))
    assert "Monday 5 July 2027, 19:00 UTC-4" in page
    assert "00:00 on Tuesday 6 July in London" in page
    make_event(
        timezone="America/La_Paz",
        extra_timezones=[],
        starts_at="2027-12-06T19:00:00-04:00",
        ends_at="2027-12-06T21:00:00-04:00",
    )
    page = text_of(client.get("/events/solidarity-meeting"))
    assert "Monday 6 December 2027, 19:00 UTC-4" in page
    assert "23:00 in London" in page


def test_event_ending_on_another_day(client, make_event):
    make_event(starts_at="2027-06-01T22:00:00+01:00", ends_at="2027-06-02T01:00:00+01:00")
    page = text_of(client.get("/events/solidarity-meeting"))
    assert "until Wednesday 2 June 2027, 01:00 BST" in page


def test_times_in_spanish(client, make_event):
    make_event()
    page = text_of(client.get("/events/solidarity-meeting", headers={"Accept-Language": "es"}))
    assert "lunes, 19 de abril de 2027, 18:30 BST" in page
    assert "13:30 en La Paz" in page
    assert "hasta las 20:00 BST" in page

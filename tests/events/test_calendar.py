"""Calendar files as calendar apps read them: one event's download and the feed of upcoming ones.

Each file is read back twice: with ``icalendar`` (the library that writes it) and with ical.js,
the parser inside Thunderbird, Nextcloud and FullCalendar (``tests/events/icaljs_read.mjs``,
installed by ``make test``). Both must see the instants the organiser entered.

"Upcoming" is relative to the real clock, so events meant to be in the feed are set years ahead
(before 2038, where the time zone definitions in the files end) and past ones in 2020.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.events.fixtures import LONDON, SECRET_JOIN_URL

ROOT = Path(__file__).resolve().parents[2]
ICALJS_READER = ROOT / "tests" / "events" / "icaljs_read.mjs"
ICALJS_PACKAGE = ROOT / "node_modules" / "ical.js" / "package.json"
LA_PAZ = ZoneInfo("America/La_Paz")
# ical.js reads a time whose TZID it cannot resolve in the computer's own zone. Run it in a zone
# that matches none of ours (+05:45) so such a fallback shows up as a wrong instant.
NODE_LOCAL_ZONE = "Asia/Kathmandu"

# Known traps, each covered below: ical.js 2.x reads only the first date of a comma-separated
# RDATE in a VTIMEZONE (winter times came out an hour early), and RFC 5545 3.3.5 reads an
# ambiguous local time as its first occurrence (so the second 01:30 must be written in UTC).


# --- reading the files ----------------------------------------------------------------------


def read_with_icaljs(ics: bytes) -> list[dict[str, Any]]:
    """The events of ``ics`` as ical.js reads them (see icaljs_read.mjs for the fields)."""
    if not ICALJS_PACKAGE.is_file():
        pytest.fail(
            f"ical.js is not installed ({ICALJS_PACKAGE.parent} is missing): run `make test`, "
            "which installs it with `npm install` (target calendar-tools)",
            pytrace=False,
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js (`node`) is not on PATH: the calendar tests read our .ics files with "
            "ical.js. Install Node.js 20 or later, then run `make test`",
            pytrace=False,
        )
    result = subprocess.run(
        [node, str(ICALJS_READER)],
        input=ics,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "TZ": NODE_LOCAL_ZONE},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout)


def parse(ics: bytes) -> Calendar:
    return Calendar.from_ical(ics)


def unfolded(ics: bytes) -> str:
    """The file's text with folded lines joined, so a long value can be searched whole."""
    return ics.decode().replace("\r\n ", "").replace("\r\n\t", "")


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def iso_z(value: datetime) -> str:
    """An instant as ical.js prints it (JavaScript's Date.toISOString)."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# When the events that must be in the feed happen: years ahead of the real clock, in BST.
UPCOMING = {
    "starts_at": datetime(2031, 5, 12, 18, 30, tzinfo=LONDON).isoformat(),
    "ends_at": datetime(2031, 5, 12, 20, 0, tzinfo=LONDON).isoformat(),
}
UPCOMING_UTC_START = "2031-05-12T17:30:00.000Z"


def event_file(client, slug: str = "solidarity-meeting") -> bytes:
    response = client.get(f"/events/{slug}.ics")
    assert response.status_code == 200, response.status_code
    return response.data


def feed_file(client) -> bytes:
    response = client.get("/events.ics")
    assert response.status_code == 200, response.status_code
    return response.data


def only_event(calendar: Calendar):
    [event] = calendar.events
    return event


def timed(start: datetime, end: datetime) -> dict[str, str]:
    return {"starts_at": start.isoformat(), "ends_at": end.isoformat()}


# --- the files are calendars ----------------------------------------------------------------


def test_event_download_is_a_calendar_file(client, make_event):
    make_event()
    response = client.get("/events/solidarity-meeting.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="solidarity-meeting.ics"'
    )
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = parse(response.data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Convoca//Convoca events//EN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    event = only_event(calendar)
    assert str(event["SUMMARY"]) == "Solidarity meeting"
    assert str(event["URL"]) == "https://events.example.org/events/solidarity-meeting"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTAMP"].dt.tzinfo is not None


def test_feed_is_a_calendar_subscription(client, make_event):
    make_event(**UPCOMING)
    response = client.get("/events.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.mimetype_params.get("charset") == "utf-8"
    calendar = parse(response.data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Convoca//Convoca events//EN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"])
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=6)
    assert [str(event["SUMMARY"]) for event in calendar.events] == ["Solidarity meeting"]


def test_empty_feed_is_still_a_calendar(client):
    ics = feed_file(client)
    calendar = parse(ics)
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar.events == []
    assert read_with_icaljs(ics) == []


# --- time zones -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """An event's start and end as the organiser enters them, and the instants they are."""

    zone: ZoneInfo
    start: datetime  # aware, in ``zone`` (fold=1 for the second of two equal local times)
    end: datetime
    utc_start: datetime
    utc_end: datetime

    @property
    def tzid(self) -> str:
        return self.zone.key

    @property
    def ambiguous(self) -> bool:
        """The start's local time happens twice (the hour the clocks go back)."""
        return self.start.replace(fold=0).utcoffset() != self.start.replace(fold=1).utcoffset()


def _at(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold)


def _z(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


TIMINGS = {
    # 18:30 BST is 17:30 UTC; the same wall time in January (GMT) is 18:30 UTC.
    "london-summer": Timing(
        LONDON,
        _at(LONDON, 2027, 4, 19, 18, 30),
        _at(LONDON, 2027, 4, 19, 20, 0),
        _z(2027, 4, 19, 17, 30),
        _z(2027, 4, 19, 19, 0),
    ),
    "london-winter": Timing(
        LONDON,
        _at(LONDON, 2027, 1, 18, 18, 30),
        _at(LONDON, 2027, 1, 18, 20, 0),
        _z(2027, 1, 18, 18, 30),
        _z(2027, 1, 18, 20, 0),
    ),
    # Bolivia: UTC-4 all year, no summer time; the evening event ends after midnight UTC.
    "la-paz": Timing(
        LA_PAZ,
        _at(LA_PAZ, 2027, 5, 3, 19, 0),
        _at(LA_PAZ, 2027, 5, 3, 21, 0),
        _z(2027, 5, 3, 23, 0),
        _z(2027, 5, 4, 1, 0),
    ),
    "la-paz-in-uk-winter": Timing(
        LA_PAZ,
        _at(LA_PAZ, 2027, 12, 6, 14, 0),
        _at(LA_PAZ, 2027, 12, 6, 15, 30),
        _z(2027, 12, 6, 18, 0),
        _z(2027, 12, 6, 19, 30),
    ),
    # Clocks go forward on Sunday 28 March 2027: 01:00 GMT becomes 02:00 BST (01:30 never
    # happens). 00:30 GMT to 03:00 BST lasts an hour and a half across the change.
    "spring-forward-before": Timing(
        LONDON,
        _at(LONDON, 2027, 3, 28, 0, 30),
        _at(LONDON, 2027, 3, 28, 3, 0),
        _z(2027, 3, 28, 0, 30),
        _z(2027, 3, 28, 2, 0),
    ),
    "spring-forward-after": Timing(
        LONDON,
        _at(LONDON, 2027, 3, 28, 2, 30),
        _at(LONDON, 2027, 3, 28, 4, 0),
        _z(2027, 3, 28, 1, 30),
        _z(2027, 3, 28, 3, 0),
    ),
    # Clocks go back on Sunday 31 October 2027: 02:00 BST becomes 01:00 GMT (01:00-02:00 twice).
    # 00:30 BST to 02:30 GMT lasts three hours across the change.
    "fall-back-before": Timing(
        LONDON,
        _at(LONDON, 2027, 10, 31, 0, 30),
        _at(LONDON, 2027, 10, 31, 2, 30),
        _z(2027, 10, 30, 23, 30),
        _z(2027, 10, 31, 2, 30),
    ),
    "fall-back-after": Timing(
        LONDON,
        _at(LONDON, 2027, 10, 31, 2, 30),
        _at(LONDON, 2027, 10, 31, 4, 0),
        _z(2027, 10, 31, 2, 30),
        _z(2027, 10, 31, 4, 0),
    ),
    # The first 01:30 (BST): what an ambiguous local time means in iCalendar.
    "fall-back-first-0130": Timing(
        LONDON,
        _at(LONDON, 2027, 10, 31, 1, 30),
        _at(LONDON, 2027, 10, 31, 3, 0),
        _z(2027, 10, 31, 0, 30),
        _z(2027, 10, 31, 3, 0),
    ),
    # The second 01:30 (GMT), an hour after the first.
    "fall-back-second-0130": Timing(
        LONDON,
        _at(LONDON, 2027, 10, 31, 1, 30, fold=1),
        _at(LONDON, 2027, 10, 31, 3, 0),
        _z(2027, 10, 31, 1, 30),
        _z(2027, 10, 31, 3, 0),
    ),
}


def test_timings_are_what_they_say():
    """The table above: each local time is the instant it claims (checks the test, not the app)."""
    for name, timing in TIMINGS.items():
        assert utc(timing.start) == timing.utc_start, name
        assert utc(timing.end) == timing.utc_end, name


@pytest.mark.parametrize("case", TIMINGS)
def test_download_keeps_the_events_zone_and_instant(client, make_event, case):
    timing = TIMINGS[case]
    make_event(timezone=timing.tzid, **timed(timing.start, timing.end))
    ics = event_file(client)
    calendar = parse(ics)
    event = only_event(calendar)

    # Written in the event's own zone, as the organiser entered it (but a local time that
    # happens twice in UTC, since readers disagree on which of the two it means)...
    if timing.ambiguous:
        assert "TZID" not in event["DTSTART"].params
        assert event.start == timing.utc_start
    else:
        assert event["DTSTART"].params["TZID"] == timing.tzid
        assert event.start.replace(tzinfo=None) == timing.start.replace(tzinfo=None)
    assert event["DTEND"].params["TZID"] == timing.tzid
    # ...and meaning the right instants.
    assert utc(event.start) == timing.utc_start
    assert utc(event.end) == timing.utc_end

    # The file carries the zone's definition, and that definition (read on its own, not looked
    # up by name) gives the same instants: what a reader without the tz database relies on.
    assert calendar.get_missing_tzids() == set()
    [vtimezone] = calendar.timezones
    assert vtimezone.tz_name == timing.tzid
    from_file = vtimezone.to_tz(lookup_tzid=False)
    if not timing.ambiguous:
        assert utc(event.start.replace(tzinfo=from_file)) == timing.utc_start
    assert utc(event.end.replace(tzinfo=from_file)) == timing.utc_end


@pytest.mark.parametrize("case", TIMINGS)
def test_icaljs_reads_the_download_at_the_right_instant(client, make_event, case):
    timing = TIMINGS[case]
    make_event(timezone=timing.tzid, **timed(timing.start, timing.end))
    [event] = read_with_icaljs(event_file(client))
    if not timing.ambiguous:  # a local time that happens twice is written in UTC
        assert event["tzid"] == timing.tzid
        assert event["zone"] == timing.tzid, "ical.js did not resolve the TZID to the VTIMEZONE"
    assert (event["start"], event["end"]) == (iso_z(timing.utc_start), iso_z(timing.utc_end))


def test_feed_carries_every_zone_it_uses(client, make_event):
    make_event(**UPCOMING, slug="in-london")
    make_event(
        slug="in-la-paz",
        timezone="America/La_Paz",
        **timed(_at(LA_PAZ, 2031, 5, 5, 19, 0), _at(LA_PAZ, 2031, 5, 5, 21, 0)),
    )
    ics = feed_file(client)
    calendar = parse(ics)
    assert calendar.get_missing_tzids() == set()
    assert sorted(tz.tz_name for tz in calendar.timezones) == ["America/La_Paz", "Europe/London"]
    by_slug = {str(event["URL"]).rsplit("/", 1)[1]: event for event in calendar.events}
    assert by_slug["in-la-paz"]["DTSTART"].params["TZID"] == "America/La_Paz"
    assert utc(by_slug["in-la-paz"].start) == _z(2031, 5, 5, 23, 0)
    assert by_slug["in-london"]["DTSTART"].params["TZID"] == "Europe/London"
    read = read_with_icaljs(ics)
    assert [(event["zone"], event["start"]) for event in read] == [
        ("America/La_Paz", "2031-05-05T23:00:00.000Z"),
        ("Europe/London", UPCOMING_UTC_START),
    ]


# --- identity and updates -------------------------------------------------------------------


def _uid_and_sequence(ics: bytes) -> tuple[str, int]:
    event = only_event(parse(ics))
    return str(event["UID"]), int(event["SEQUENCE"])


def test_uid_is_the_same_in_the_download_and_the_feed(client, make_event):
    created = make_event(**UPCOMING)
    download_uid, _sequence = _uid_and_sequence(event_file(client))
    assert download_uid == f"{created.uid}@convoca"
    [feed_event] = parse(feed_file(client)).events
    assert str(feed_event["UID"]) == download_uid
    assert [event["uid"] for event in read_with_icaljs(event_file(client))] == [download_uid]
    assert [event["uid"] for event in read_with_icaljs(feed_file(client))] == [download_uid]


def test_each_event_has_its_own_uid(client, make_event):
    make_event(**UPCOMING, slug="first")
    make_event(**UPCOMING, slug="second")
    uids = [str(event["UID"]) for event in parse(feed_file(client)).events]
    assert len(uids) == 2
    assert len(set(uids)) == 2


def test_update_keeps_the_uid_and_a_new_time_raises_the_sequence(client, make_event):
    make_event(**UPCOMING)
    uid, first_sequence = _uid_and_sequence(event_file(client))

    # The same event imported again unchanged: nothing for calendars to update.
    make_event(**UPCOMING)
    assert _uid_and_sequence(event_file(client)) == (uid, first_sequence)

    make_event(**UPCOMING, title="Solidarity meeting: report back")
    retitled_uid, retitled_sequence = _uid_and_sequence(event_file(client))
    assert retitled_uid == uid
    assert retitled_sequence >= first_sequence

    new_start = _at(LONDON, 2031, 5, 19, 19, 0)
    make_event(
        title="Solidarity meeting: report back",
        **timed(new_start, new_start + timedelta(hours=2)),
    )
    for ics in (event_file(client), feed_file(client)):
        moved_uid, moved_sequence = _uid_and_sequence(ics)
        assert moved_uid == uid
        assert moved_sequence > retitled_sequence
        event = only_event(parse(ics))
        assert str(event["SUMMARY"]) == "Solidarity meeting: report back"
        assert utc(event.start) == _z(2031, 5, 19, 18, 0)
        [read] = read_with_icaljs(ics)
        assert (read["uid"], read["sequence"]) == (uid, moved_sequence)
        assert read["start"] == "2031-05-19T18:00:00.000Z"


# --- what is published ----------------------------------------------------------------------


def test_cancelled_event_file_says_cancelled(client, make_event):
    make_event(**UPCOMING, status="cancelled")
    for ics in (event_file(client), feed_file(client)):
        event = only_event(parse(ics))
        assert str(event["STATUS"]) == "CANCELLED"
        assert "STATUS:CANCELLED\r\n" in ics.decode()
        [read] = read_with_icaljs(ics)
        assert read["status"] == "CANCELLED"


def test_cancelling_raises_the_sequence_and_keeps_the_uid(client, make_event):
    make_event()
    uid, sequence = _uid_and_sequence(event_file(client))
    make_event(status="cancelled")
    cancelled_uid, cancelled_sequence = _uid_and_sequence(event_file(client))
    assert cancelled_uid == uid
    assert cancelled_sequence > sequence


def test_drafts_are_not_published(client, make_event):
    make_event(**UPCOMING, slug="published-one")
    make_event(**UPCOMING, slug="still-a-draft", title="Draft plans", status="draft")
    assert client.get("/events/still-a-draft.ics").status_code == 404
    ics = feed_file(client)
    assert [str(event["SUMMARY"]) for event in parse(ics).events] == ["Solidarity meeting"]
    assert "Draft plans" not in unfolded(ics)
    assert "still-a-draft" not in unfolded(ics)


def test_unknown_event_file_is_not_found(client):
    assert client.get("/events/no-such-event.ics").status_code == 404


def test_past_events_are_not_in_the_feed(client, make_event):
    make_event(**UPCOMING, slug="coming-up")
    make_event(
        slug="long-gone",
        title="Old meeting",
        **timed(_at(LONDON, 2020, 3, 2, 18, 30), _at(LONDON, 2020, 3, 2, 20, 0)),
    )
    ics = feed_file(client)
    assert [str(event["SUMMARY"]) for event in parse(ics).events] == ["Solidarity meeting"]
    assert "long-gone" not in unfolded(ics)
    assert [event["summary"] for event in read_with_icaljs(ics)] == ["Solidarity meeting"]


@pytest.mark.parametrize("event_format", ["online", "hybrid"])
def test_join_url_is_in_no_calendar_file(client, make_event, event_format):
    venue = {"venue": "Marx Memorial Library", "address": "37a Clerkenwell Green"}
    make_event(**UPCOMING, format=event_format, **(venue if event_format == "hybrid" else {}))
    secret_room = SECRET_JOIN_URL.rsplit("/", 1)[1]
    for ics in (event_file(client), feed_file(client)):
        text = unfolded(ics)
        assert SECRET_JOIN_URL not in text
        assert secret_room not in text
        assert "meet.example.org" not in text
    [read] = read_with_icaljs(event_file(client))
    if event_format == "hybrid":
        assert read["location"] == "Marx Memorial Library, 37a Clerkenwell Green"
    else:
        assert read["location"] == "Online"


def test_feed_lists_upcoming_events_in_order(client, make_event):
    # Created out of order, in two zones; a past one and a draft that must not show.
    make_event(
        slug="third",
        title="Third",
        **timed(_at(LONDON, 2031, 9, 15, 18, 30), _at(LONDON, 2031, 9, 15, 20, 0)),
    )
    make_event(
        slug="first",
        title="First",
        **timed(_at(LONDON, 2031, 6, 2, 18, 30), _at(LONDON, 2031, 6, 2, 20, 0)),
    )
    make_event(
        slug="past",
        title="Past",
        **timed(_at(LONDON, 2020, 6, 1, 18, 30), _at(LONDON, 2020, 6, 1, 20, 0)),
    )
    # 13:00 in La Paz is 18:00 BST, the day after "first".
    make_event(
        slug="second",
        title="Second",
        timezone="America/La_Paz",
        **timed(_at(LA_PAZ, 2031, 6, 3, 13, 0), _at(LA_PAZ, 2031, 6, 3, 15, 0)),
    )
    make_event(
        slug="draft",
        title="Draft",
        status="draft",
        **timed(_at(LONDON, 2031, 7, 1, 18, 30), _at(LONDON, 2031, 7, 1, 20, 0)),
    )
    make_event(
        slug="same-evening-earlier",
        title="Same evening, earlier",
        # 12:00 La Paz is 17:00 BST, before "first" at 18:30 BST on the same day.
        timezone="America/La_Paz",
        **timed(_at(LA_PAZ, 2031, 6, 2, 12, 0), _at(LA_PAZ, 2031, 6, 2, 13, 0)),
    )
    expected = ["Same evening, earlier", "First", "Second", "Third"]
    ics = feed_file(client)
    events = parse(ics).events
    assert [str(event["SUMMARY"]) for event in events] == expected
    starts = [utc(event.start) for event in events]
    assert starts == sorted(starts)
    read = read_with_icaljs(ics)
    assert [event["summary"] for event in read] == expected
    assert [event["start"] for event in read] == [
        "2031-06-02T16:00:00.000Z",
        "2031-06-02T17:30:00.000Z",
        "2031-06-03T17:00:00.000Z",
        "2031-09-15T17:30:00.000Z",
    ]

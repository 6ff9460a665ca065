"""``flask events dump|import`` and ``flask demo load``."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service.demo import DEMO_EVENT_SLUG, SOCIAL_SLUG, next_monday_after
from service.events import service
from service.extensions import db
from service.registration import attendance, needs
from service.registration.models import Registration, RegistrationStatus
from tests.events.fixtures import SECRET_JOIN_URL, event_data


def test_dump_has_public_and_private_fields(runner, make_event, tmp_path):
    make_event()
    output = tmp_path / "event.json"
    result = runner.invoke(args=["events", "dump", "solidarity-meeting", "-o", str(output)])
    assert result.exit_code == 0, result.output
    dumped = json.loads(output.read_text())
    assert dumped["slug"] == "solidarity-meeting"
    assert dumped["starts_at"] == "2027-04-19T18:30:00+01:00"
    assert dumped["timezone"] == "Europe/London"
    assert dumped["status"] == "published"
    assert dumped["capacity"] == 100
    assert dumped["waiting_list"] is True
    assert dumped["join_url"] == SECRET_JOIN_URL
    assert dumped["supporters"] == ["Labour Friends of Progressive Latin America"]
    assert dumped["people"][0] == {
        "name": "Ollie Vargas",
        "role": "speaker",
        "affiliation": "Journalist",
        "email": "ollie@example.org",
    }
    assert dumped["url"] == "https://events.example.org/events/solidarity-meeting"


def test_dump_with_new_slug_imports_as_a_copy(app, runner, make_event, tmp_path):
    original = make_event()
    result = runner.invoke(args=["events", "dump", "solidarity-meeting"])
    copy = json.loads(result.output)
    copy["slug"] = "solidarity-meeting-again"
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(copy))
    result = runner.invoke(args=["events", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created solidarity-meeting-again" in result.output
    with app.app_context():
        duplicate = service.get_event("solidarity-meeting-again")
        assert duplicate.uid != original.uid
        assert service.dump_event(duplicate) | {
            "slug": "x",
            "uid": "x",
            "url": "x",
            "ics_url": "x",
        } == (
            service.dump_event(service.get_event("solidarity-meeting"))
            | {"slug": "x", "uid": "x", "url": "x", "ics_url": "x"}
        )


def test_import_updates_by_slug_keeping_identity(app, runner, make_event, tmp_path):
    original = make_event()
    path = tmp_path / "update.json"
    path.write_text(
        json.dumps([event_data(title="Renamed meeting", starts_at="2027-04-19T19:00:00+01:00")])
    )
    result = runner.invoke(args=["events", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "updated solidarity-meeting" in result.output
    with app.app_context():
        event = service.get_event("solidarity-meeting")
        assert event.title == "Renamed meeting"
        assert event.uid == original.uid
        assert event.sequence == original.sequence + 1
        assert event.starts_at == datetime(2027, 4, 19, 18, 0, tzinfo=ZoneInfo("UTC"))
        assert service.count_events() == 1


def test_import_reports_every_problem_and_writes_nothing(app, runner, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            [
                event_data(slug="fine-event"),
                event_data(
                    slug="Not A Slug", starts_at="2027-04-19T18:30:00", timezone="Mars/Olympus"
                ),
                event_data(slug="backwards", ends_at="2027-04-19T17:00:00+01:00"),
                event_data(slug="nul", title="bad\x00title"),
                "not an object",
            ]
        )
    )
    result = runner.invoke(args=["events", "import", str(path)])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert "slug: String should match pattern" in result.output
    assert "starts_at: Input should have timezone info" in result.output
    assert "unknown time zone 'Mars/Olympus'" in result.output
    assert "ends_at must be after starts_at" in result.output
    assert "contains a NUL character" in result.output
    assert "event 5: expected a JSON object" in result.output
    with app.app_context():
        assert service.count_events() == 0


def test_import_rejects_invalid_json(runner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = runner.invoke(args=["events", "import", str(path)])
    assert result.exit_code == 1
    assert "is not valid JSON" in result.output


def test_dump_unknown_slug(runner):
    result = runner.invoke(args=["events", "dump", "nope"])
    assert result.exit_code == 1
    assert "no event with slug 'nope'" in result.output


def test_demo_load_is_idempotent_and_upcoming(app, runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert f"created event {DEMO_EVENT_SLUG}" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert f"updated event {DEMO_EVENT_SLUG}" in second.output
    assert "registered 5 demo attendee(s)" in first.output
    assert "registered 0 demo attendee(s)" in second.output
    assert "registered 6 and marked 4 attending for bolivia-three-months-on" in first.output
    assert "registered 0 and marked 0 attending for bolivia-three-months-on" in second.output
    with app.app_context():
        assert service.count_events() == 3
        social = service.get_event(SOCIAL_SLUG)
        counts = Counter(
            db.session.scalars(
                select(Registration.status).where(Registration.event_id == social.id)
            )
        )
        assert counts == {RegistrationStatus.CONFIRMED: 8, RegistrationStatus.WAITING: 3}
        event = service.get_event(DEMO_EVENT_SLUG)
        local_start = event.starts_at.astimezone(ZoneInfo("Europe/London"))
        assert local_start.weekday() == 0 and (local_start.hour, local_start.minute) == (18, 30)
        assert 28 <= (local_start.date() - date.today()).days < 35
        assert event.extra_timezones == ["America/La_Paz"]
        assert [p.name for p in event.chairs] == ["Christine Blower"]
        assert len(event.speakers) == 5
        assert event.join_url
        assert event.sequence == 0
        # A London room and online, its people in both, and a past meeting people came to.
        assert (event.format, event.capacity, event.online_capacity) == ("hybrid", 120, 500)
        modes = db.session.scalars(
            select(Registration.mode).where(Registration.event_id == event.id)
        )
        assert Counter(modes) == {"in_person": 3, "online": 2}
        # Its languages and access needs, for the organisers' headcounts.
        headcounts = {
            count.language: (count.people, count.interpreted)
            for count in needs.language_headcounts(event)
        }
        assert headcounts == {"en": (3, 0), "es": (2, 2)}
        access = {str(count.label): count.people for count in needs.access_need_counts(event.id)}
        assert (access["captions"], access["step-free"], access["dial-in"]) == (1, 1, 1)
        past = service.get_event("bolivia-three-months-on")
        came = db.session.scalars(
            select(Registration.mode).where(Registration.id.in_(attendance.attended_ids(past)))
        )
        assert Counter(came) == {"in_person": 2, "online": 2}
    assert DEMO_EVENT_SLUG in client.get("/").get_data(as_text=True)
    assert "bolivia-three-months-on" in client.get("/events/past").get_data(as_text=True)


def test_next_monday_after():
    assert next_monday_after(date(2026, 11, 26), 28) == date(2026, 12, 28)  # a Thursday
    assert next_monday_after(date(2026, 11, 30), 28) == date(2026, 12, 28)  # a Monday
    assert next_monday_after(date(2026, 12, 1), 28) == date(2027, 1, 4)

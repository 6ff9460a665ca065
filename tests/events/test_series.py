"""Copies and series: what a copy takes and leaves, slugs, drafts, the monthly same-weekday
rule, local time kept across DST, the public series page, the feed and ``flask events
duplicate``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from service.access import service as access
from service.access.models import EventRole
from service.events import series, service
from service.events.models import Event, EventSeries, EventStatus, Question, QuestionKind
from service.extensions import db
from service.organisers.models import Organiser
from service.organisers.service import create_organiser
from service.registration.models import Registration
from tests.events.fixtures import LONDON, SECRET_JOIN_URL
from tests.events.test_pages import text_of
from tests.organisers.conftest import snapshot

LA_PAZ = ZoneInfo("America/La_Paz")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _event(slug: str = "solidarity-meeting") -> Event:
    event = service.get_event(slug)
    assert event is not None
    return event


def _copy(slug="solidarity-meeting", starts_at=None, **options) -> series.Copies:
    starts_at = starts_at or datetime(2027, 5, 3, 18, 30, tzinfo=LONDON)
    return series.copy_event(_event(slug), starts_at, now=NOW, **options)


def test_every_event_column_is_copied_moved_or_fresh():
    """A column added to Event later must be placed in one of the three lists."""
    listed = [*series.COPIED_COLUMNS, *series.MOVED_COLUMNS, *series.FRESH_COLUMNS]
    assert sorted(listed) == sorted(Event.__table__.columns.keys())


def test_a_copy_takes_texts_people_questions_and_reminders(app_context, make_event):
    make_event(
        registration_opens_at=datetime(2027, 4, 1, 9, 0, tzinfo=LONDON).isoformat(),
        registration_closes_at=datetime(2027, 4, 19, 12, 0, tzinfo=LONDON).isoformat(),
        attendee_reminder_offsets=[2880, 30],
        reminder_note="Bring your banner",
        speaker_notes="Arrive early",
        retention_days=30,
        waiting_list=False,
    )
    original = _event()
    original.questions.append(
        Question(
            kind=QuestionKind.CHOICE,
            label="Diet?",
            label_es="¿Dieta?",
            choices=[{"en": "Vegan", "es": "Vegana"}, {"en": "Any", "es": "Cualquiera"}],
            required=True,
        )
    )
    db.session.commit()

    [copy] = _copy().events

    assert copy.status is EventStatus.DRAFT
    assert copy.slug == "solidarity-meeting-2027-05-03"
    assert (copy.title, copy.title_es) == ("Solidarity meeting", "Reunión de solidaridad")
    assert copy.description_es == "Nos reunimos para **organizarnos**."
    assert copy.join_url == SECRET_JOIN_URL
    assert (copy.capacity, copy.waiting_list, copy.retention_days) == (100, False, 30)
    assert copy.attendee_reminder_offsets == [2880, 30]
    assert (copy.reminder_note, copy.speaker_notes) == ("Bring your banner", "Arrive early")
    assert [(p.name, p.role.value, p.email) for p in copy.people] == [
        ("Ollie Vargas", "speaker", "ollie@example.org"),
        ("Christine Blower", "chair", "christine@example.org"),
    ]
    assert [s.name for s in copy.supporters] == ["Labour Friends of Progressive Latin America"]
    [question] = copy.questions
    assert (question.label_es, question.required) == ("¿Dieta?", True)
    assert question.choices[0] == {"en": "Vegan", "es": "Vegana"}
    assert question.id != original.questions[0].id
    # The end and the registration window move with the start, 14 days on.
    assert copy.starts_at == datetime(2027, 5, 3, 18, 30, tzinfo=LONDON)
    assert copy.ends_at == datetime(2027, 5, 3, 20, 0, tzinfo=LONDON)
    assert copy.registration_opens_at == datetime(2027, 4, 15, 9, 0, tzinfo=LONDON)
    assert copy.registration_closes_at == datetime(2027, 5, 3, 12, 0, tzinfo=LONDON)


def test_a_copy_has_no_registrations_and_a_fresh_calendar_identity(
    app_context, make_event, make_registration
):
    made = make_event()
    make_registration(made.id, "ana@example.org", created_at=NOW)
    original = _event()
    original.sequence = 4
    db.session.commit()

    [copy] = _copy().events

    assert copy.uid != original.uid
    assert copy.sequence == 0
    assert copy.series_id is None  # a plain duplicate is not a series
    count = select(func.count()).select_from(Registration).where(Registration.event_id == copy.id)
    assert db.session.scalar(count) == 0


def test_a_taken_slug_gets_a_number_and_a_copy_of_a_copy_no_second_date(app_context, make_event):
    make_event()
    first = _copy().events[0]
    second = _copy().events[0]
    assert (first.slug, second.slug) == (
        "solidarity-meeting-2027-05-03",
        "solidarity-meeting-2027-05-03-2",
    )
    third = _copy(first.slug, datetime(2027, 6, 7, 18, 30, tzinfo=LONDON)).events[0]
    assert third.slug == "solidarity-meeting-2027-06-07"


def test_a_long_slug_still_fits(app_context, make_event):
    make_event(slug="a" * 120)
    [copy] = _copy("a" * 120).events
    assert len(copy.slug) <= 120
    assert copy.slug.endswith("-2027-05-03")


def test_weekly_repeat_makes_a_series_with_the_original(app_context, make_event):
    make_event()
    copies = _copy(repeat=series.Repeat.WEEKLY, count=3)

    assert [copy.starts_at.date() for copy in copies.events] == [
        date(2027, 5, 3),
        date(2027, 5, 10),
        date(2027, 5, 17),
    ]
    assert all(copy.status is EventStatus.DRAFT for copy in copies.events)
    assert copies.series is not None
    assert copies.series.slug == "solidarity-meeting"
    assert copies.series.title_es == "Reunión de solidaridad"
    assert {copy.series_id for copy in copies.events} == {copies.series.id}
    assert _event().series_id == copies.series.id
    # Repeating again from any date of it adds to the same series.
    more = _copy(
        copies.events[-1].slug,
        repeat=series.Repeat.FORTNIGHTLY,
        count=2,
        starts_at=datetime(2027, 5, 31, 18, 30, tzinfo=LONDON),
    )
    assert [copy.starts_at.date() for copy in more.events] == [date(2027, 5, 31), date(2027, 6, 14)]
    assert more.series.id == copies.series.id
    assert db.session.scalar(select(func.count()).select_from(EventSeries)) == 1


def test_monthly_keeps_the_weekday_of_the_month():
    # 9 March 2027 is the 2nd Tuesday of March.
    days = [series.same_weekday_of_month(date(2027, 3, 9), months)[0] for months in range(4)]
    assert days == [date(2027, 3, 9), date(2027, 4, 13), date(2027, 5, 11), date(2027, 6, 8)]
    assert all(day.weekday() == 1 and 8 <= day.day <= 14 for day in days)
    # Over the year's end too: the 1st Friday of December 2027 → January 2028.
    assert series.same_weekday_of_month(date(2027, 12, 3), 1) == (date(2028, 1, 7), False)


def test_a_fifth_weekday_the_month_lacks_becomes_its_last_one_and_says_so(app_context, make_event):
    make_event()
    # 30 March 2027 is the 5th Tuesday; April has four, May has none past the 25th.
    copies = _copy(
        starts_at=datetime(2027, 3, 30, 18, 30, tzinfo=LONDON),
        repeat=series.Repeat.MONTHLY,
        count=4,
    )
    days = [copy.starts_at.astimezone(LONDON).date() for copy in copies.events]
    assert days == [date(2027, 3, 30), date(2027, 4, 27), date(2027, 5, 25), date(2027, 6, 29)]
    assert [start.date() for start in copies.moved_to_last] == [
        date(2027, 4, 27),
        date(2027, 5, 25),
    ]


def test_london_keeps_half_past_six_in_winter_and_summer(app_context, make_event):
    make_event(
        starts_at=datetime(2027, 3, 16, 18, 30, tzinfo=LONDON).isoformat(),
        ends_at=datetime(2027, 3, 16, 20, 0, tzinfo=LONDON).isoformat(),
    )
    # 4th Tuesdays from 23 March 2027 (GMT), over 28 March (BST), to November (GMT again).
    copies = _copy(
        starts_at=datetime(2027, 3, 23, 18, 30, tzinfo=LONDON),
        repeat=series.Repeat.MONTHLY,
        count=9,
    )
    local = [copy.starts_at.astimezone(LONDON) for copy in copies.events]
    assert {moment.strftime("%H:%M") for moment in local} == {"18:30"}
    assert {(copy.ends_at - copy.starts_at) for copy in copies.events} == {timedelta(minutes=90)}
    assert [moment.utcoffset() for moment in local[:2]] == [timedelta(0), timedelta(hours=1)]
    assert local[-2].utcoffset() == timedelta(hours=1)  # 26 October, before the clocks go back
    assert local[-1].date() == date(2027, 11, 23)
    assert local[-1].utcoffset() == timedelta(0)
    assert [copy.starts_at.astimezone(UTC).hour for copy in copies.events[:2]] == [18, 17]


def test_la_paz_has_no_clock_change_and_keeps_its_hour_for_london(app_context, make_event):
    make_event(
        slug="la-paz",
        timezone="America/La_Paz",
        starts_at=datetime(2027, 3, 16, 19, 0, tzinfo=LA_PAZ).isoformat(),
        ends_at=datetime(2027, 3, 16, 21, 0, tzinfo=LA_PAZ).isoformat(),
    )
    copies = _copy(
        "la-paz",
        starts_at=datetime(2027, 3, 23, 19, 0, tzinfo=LA_PAZ),
        repeat=series.Repeat.WEEKLY,
        count=2,
    )
    assert [copy.starts_at.astimezone(UTC).hour for copy in copies.events] == [23, 23]
    # London moves its clocks on 28 March: the same La Paz hour is 23:00, then midnight there.
    london = [copy.starts_at.astimezone(LONDON).strftime("%H:%M") for copy in copies.events]
    assert london == ["23:00", "00:00"]


def test_a_time_the_clocks_skip_is_refused_and_nothing_is_written(app, app_context, make_event):
    make_event()
    before = snapshot(app)
    with pytest.raises(series.CopyError, match="does not exist on 2027-03-28"):
        _copy(
            starts_at=datetime(2027, 3, 21, 1, 30, tzinfo=LONDON),
            repeat=series.Repeat.WEEKLY,
            count=2,
        )
    db.session.rollback()
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"repeat": series.Repeat.WEEKLY, "count": 53}, "between 1 and 52"),
        ({"repeat": series.Repeat.WEEKLY, "count": 0}, "between 1 and 52"),
        ({"count": 2}, "how often"),
        ({"starts_at": datetime(2026, 11, 30, 18, 30, tzinfo=LONDON)}, "in the future"),
    ],
)
def test_bad_requests_are_refused(app, app_context, make_event, options, message):
    make_event()
    before = snapshot(app)
    with pytest.raises(series.CopyError, match=message):
        _copy(**options)
    assert snapshot(app) == before


def _publish(*slugs: str) -> None:
    for slug in slugs:
        service.set_status(_event(slug), EventStatus.PUBLISHED)


def test_the_series_page_lists_published_dates_upcoming_then_past(app, client, make_event):
    make_event(
        slug="reading-group",
        title="Reading group",
        title_es="Grupo de lectura",
        starts_at=datetime(2026, 11, 3, 18, 30, tzinfo=LONDON).isoformat(),
        ends_at=datetime(2026, 11, 3, 20, 0, tzinfo=LONDON).isoformat(),
    )
    with app.app_context():
        copies = series.copy_event(
            _event("reading-group"),
            datetime(2027, 1, 5, 18, 30, tzinfo=LONDON),
            repeat=series.Repeat.MONTHLY,
            count=3,
            now=NOW,
        )
        slugs = [copy.slug for copy in copies.events]
        _publish(slugs[0], slugs[1])  # the third stays a draft

    page = client.get("/series/reading-group")
    assert page.status_code == 200
    text = text_of(page)
    assert text.index("Coming up") < text.index("Tuesday 5 January 2027")
    assert text.index("Tuesday 5 January 2027") < text.index("Tuesday 2 February 2027")
    assert text.index("Past dates") < text.index("Tuesday 3 November 2026")
    assert "2 March 2027" not in text  # a draft never shows
    assert f'href="/events/{slugs[2]}"' not in page.get_data(as_text=True)

    client.get("/language/es")
    spanish = text_of(client.get("/series/reading-group"))
    assert "Grupo de lectura" in spanish
    assert "martes, 5 de enero de 2027" in spanish


def test_a_series_of_drafts_only_or_none_at_all_is_not_found(app, client, make_event):
    make_event(status="draft")
    with app.app_context():
        series.copy_event(
            _event(),
            datetime(2027, 5, 3, 18, 30, tzinfo=LONDON),
            repeat=series.Repeat.WEEKLY,
            count=2,
            now=NOW,
        )
    assert client.get("/series/solidarity-meeting").status_code == 404
    assert client.get("/series/no-such-series").status_code == 404
    assert client.get("/series/bad%00slug").status_code == 404


def test_each_event_page_links_the_other_public_dates(app, client, make_event):
    make_event()
    with app.app_context():
        copies = series.copy_event(
            _event(),
            datetime(2027, 5, 3, 18, 30, tzinfo=LONDON),
            repeat=series.Repeat.WEEKLY,
            count=2,
            now=NOW,
        )
        slugs = [copy.slug for copy in copies.events]
        _publish(slugs[0])

    html = client.get("/events/solidarity-meeting").get_data(as_text=True)
    assert "Other dates in this series" in html
    assert f'href="/events/{slugs[0]}"' in html
    assert f'href="/events/{slugs[1]}"' not in html  # still a draft
    assert 'href="/series/solidarity-meeting"' in html
    copy_page = client.get(f"/events/{slugs[0]}").get_data(as_text=True)
    assert 'href="/events/solidarity-meeting"' in copy_page
    # An event in no series, or alone in public in its own, has no such section.
    make_event(slug="alone", title="Alone")
    assert "Other dates in this series" not in client.get("/events/alone").get_data(as_text=True)


def test_the_feeds_carry_published_dates_as_ordinary_events(app, client, make_event):
    make_event()
    with app.app_context():
        copies = series.copy_event(
            _event(),
            datetime(2027, 5, 3, 18, 30, tzinfo=LONDON),
            repeat=series.Repeat.WEEKLY,
            count=2,
            now=NOW,
        )
        published, draft = (copy.slug for copy in copies.events)
        _publish(published)

    listed = [event["slug"] for event in client.get("/api/events").get_json()["events"]]
    assert listed == ["solidarity-meeting", published]
    calendar = client.get("/events.ics").get_data(as_text=True)
    assert calendar.count("BEGIN:VEVENT") == 2
    assert f"/events/{published}" in calendar
    assert draft not in calendar


# --- flask events duplicate ------------------------------------------------------------------


def test_cli_duplicate_prints_the_new_slug_of_a_draft(app, runner, make_event):
    make_event()
    result = runner.invoke(
        args=["events", "duplicate", "solidarity-meeting", "--starts-at", "2027-05-03T18:30"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "solidarity-meeting-2027-05-03\n"
    with app.app_context():
        copy = _event("solidarity-meeting-2027-05-03")
        assert copy.status is EventStatus.DRAFT
        assert copy.starts_at == datetime(2027, 5, 3, 18, 30, tzinfo=LONDON)


def test_cli_copies_have_the_originals_team(app, runner, make_event):
    event = make_event()
    with app.app_context():
        rosa_id = create_organiser("rosa@example.org", "correct horse battery staple").id
        access.grant_event_role(rosa_id, event.id, EventRole.MANAGER)
    result = runner.invoke(
        args=[
            *("events", "duplicate", "solidarity-meeting", "--starts-at", "2027-05-03T18:30"),
            *("--repeat", "weekly", "--count", "2"),
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        rosa = db.session.get(Organiser, rosa_id)
        for slug in result.stdout.split():
            assert access.event_role(rosa, _event(slug).id) is EventRole.MANAGER


def test_cli_reads_an_offset_when_given(app, runner, make_event):
    make_event()
    result = runner.invoke(
        args=["events", "duplicate", "solidarity-meeting", "--starts-at", "2027-05-03T17:30Z"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        copy = _event(result.stdout.strip())
        assert copy.starts_at.astimezone(LONDON).strftime("%H:%M") == "18:30"


def test_cli_monthly_series_prints_each_slug_and_notes_the_moved_dates(app, runner, make_event):
    make_event()
    result = runner.invoke(
        args=[
            "events",
            "duplicate",
            "solidarity-meeting",
            "--starts-at",
            "2027-03-30T18:30",
            "--repeat",
            "monthly",
            "--count",
            "3",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "solidarity-meeting-2027-03-30",
        "solidarity-meeting-2027-04-27",
        "solidarity-meeting-2027-05-25",
    ]
    assert "2027-04-27 is the last such weekday" in result.stderr
    with app.app_context():
        statuses = {_event(slug).status for slug in result.stdout.splitlines()}
        assert statuses == {EventStatus.DRAFT}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-event", "--starts-at", "2027-05-03T18:30"], "no event with slug"),
        (["solidarity-meeting", "--starts-at", "next tuesday"], "not an ISO date"),
        (["solidarity-meeting", "--starts-at", "2027-05\x00-03T18:30"], "not an ISO date"),
        (["solidarity\x00meeting", "--starts-at", "2027-05-03T18:30"], "no event with slug"),
        (["solidarity-meeting"], "--starts-at"),
        (["solidarity-meeting", "--starts-at", "2020-05-03T18:30"], "in the future"),
        (["solidarity-meeting", "--starts-at", "2027-03-28T01:30"], "does not exist"),
        (
            [
                "solidarity-meeting",
                "--starts-at",
                "2027-05-03T18:30",
                "--repeat",
                "daily",
                "--count",
                "2",
            ],
            "daily",
        ),
        (
            [
                "solidarity-meeting",
                "--starts-at",
                "2027-05-03T18:30",
                "--repeat",
                "weekly",
                "--count",
                "53",
            ],
            "53",
        ),
        (["solidarity-meeting", "--starts-at", "2027-05-03T18:30", "--count", "2"], "together"),
        (
            ["solidarity-meeting", "--starts-at", "2027-05-03T18:30", "--repeat", "weekly"],
            "together",
        ),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(app, runner, make_event, arguments, message):
    make_event()
    before = snapshot(app)
    result = runner.invoke(args=["events", "duplicate", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert snapshot(app) == before

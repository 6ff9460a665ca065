"""Reminders walked through time with a clock we pass in: no sleeps, no mocks of our code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.events import service as events
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind, OutboxMessage
from service.registration.models import RegistrationStatus
from service.reminders.service import sweep_reminders, upcoming_reminders
from tests.events.fixtures import SECRET_JOIN_URL

START = datetime(2027, 4, 19, 17, 30, tzinfo=UTC)  # 18:30 in London (BST)
REGISTERED = START - timedelta(days=10)


def timed(**fields):
    return {
        "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(hours=2)).isoformat(),
        **fields,
    }


@pytest.fixture
def event(make_event):
    """An event whose speakers get no briefs, so counts here are attendees' reminders."""
    return make_event(**timed(speaker_reminder_offsets=[]))


def run(now: datetime) -> tuple[int, int]:
    """One sweep and one dispatch at ``now``: (queued, sent)."""
    queued = sweep_reminders(now)
    return queued, mail.dispatch_due(now).sent


def test_an_attendee_gets_both_reminders_once_each(app, smtp, event, make_registration):
    make_registration(event.id, "ana@example.org", name="Ana", created_at=REGISTERED)
    with app.app_context():
        assert run(START - timedelta(days=1, minutes=1)) == (0, 0)
        assert run(START - timedelta(days=1)) == (1, 1)
        assert run(START - timedelta(hours=23)) == (0, 0)
        assert run(START - timedelta(hours=1, minutes=1)) == (0, 0)
        assert run(START - timedelta(hours=1)) == (1, 1)
        assert run(START - timedelta(minutes=30)) == (0, 0)
        assert run(START + timedelta(minutes=5)) == (0, 0)
    day_before, hour_before = smtp.to("ana@example.org")
    assert day_before["Subject"] == "Reminder: Solidarity meeting is coming up"
    assert hour_before["Subject"] == "Starting soon: Solidarity meeting"
    text = hour_before.get_body(("plain",)).get_content()
    assert "Hello Ana," in text
    assert "Monday 19 April 2027, 18:30 BST" in text
    assert "13:30 in La Paz" in text
    # The personal joining link, never the meeting's own address (which anyone could pass on).
    assert "Join online: https://events.example.org/j/" in text
    assert SECRET_JOIN_URL not in text
    assert 'href="https://events.example.org/j/' in hour_before.get_body(("html",)).get_content()
    assert hour_before["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_spanish_registrant_is_reminded_in_spanish(app, smtp, event, make_registration):
    make_registration(event.id, "eva@example.org", name="Eva", language="es", created_at=REGISTERED)
    with app.app_context():
        run(START - timedelta(hours=1))
    [reminder] = smtp.messages
    assert reminder["Subject"] == "Empieza pronto: Reunión de solidaridad"
    assert reminder["Content-Language"] == "es"
    text = reminder.get_body(("plain",)).get_content()
    assert "Hola, Eva:" in text
    assert "lunes, 19 de abril de 2027, 18:30 BST" in text
    assert "13:30 en La Paz" in text


def test_a_rescheduled_event_gets_fresh_reminders(app, smtp, event, make_event, make_registration):
    make_registration(event.id, "ana@example.org", created_at=REGISTERED)
    with app.app_context():
        assert run(START - timedelta(days=1)) == (1, 1)
    later = START + timedelta(days=7)
    make_event(
        starts_at=later.isoformat(),
        ends_at=(later + timedelta(hours=2)).isoformat(),
        speaker_reminder_offsets=[],
    )
    with app.app_context():
        assert run(START - timedelta(hours=1)) == (0, 0)  # the old time means nothing now
        assert run(later - timedelta(days=1)) == (1, 1)
        assert run(later - timedelta(hours=1)) == (1, 1)
    assert len(smtp.messages) == 3
    assert "Monday 26 April 2027, 18:30 BST" in smtp.messages[1].get_body(("plain",)).get_content()


def test_late_registrants_do_not_get_a_reminder_late(app, smtp, event, make_registration):
    with app.app_context():
        assert run(START - timedelta(days=1)) == (0, 0)  # nobody has registered yet
    # Registered 10 minutes after the day-before reminder: within the grace, still gets it.
    make_registration(
        event.id, "grace@example.org", created_at=START - timedelta(hours=23, minutes=50)
    )
    with app.app_context():
        assert run(START - timedelta(hours=23, minutes=49)) == (1, 1)
    # Registered 3 hours before: long after the day-before reminder and its 30 minutes' grace.
    make_registration(event.id, "late@example.org", created_at=START - timedelta(hours=3))
    with app.app_context():
        assert run(START - timedelta(hours=2, minutes=59)) == (0, 0)
        assert run(START - timedelta(hours=1)) == (2, 2)
    assert len(smtp.to("late@example.org")) == 1
    assert len(smtp.to("grace@example.org")) == 2


def test_only_the_latest_due_reminder_goes_after_downtime(app, smtp, event, make_registration):
    make_registration(event.id, "ana@example.org", created_at=REGISTERED)
    with app.app_context():
        assert run(START - timedelta(minutes=40)) == (1, 1)  # the scheduler was down all day
    [reminder] = smtp.messages
    assert reminder["Subject"].startswith("Starting soon")


def test_cancelled_and_unsubscribed_people_get_none(app, smtp, event, make_registration):
    make_registration(
        event.id, "gone@example.org", created_at=REGISTERED, status=RegistrationStatus.CANCELLED
    )
    make_registration(
        event.id, "waiting@example.org", created_at=REGISTERED, status=RegistrationStatus.WAITING
    )
    make_registration(event.id, "quiet@example.org", created_at=REGISTERED)
    make_registration(event.id, "ana@example.org", created_at=REGISTERED)
    with app.app_context():
        mail.unsubscribe(
            mail.address_hash("Quiet@Example.org"), MessageKind.REMINDER, START - timedelta(days=5)
        )
        assert run(START - timedelta(days=1)) == (1, 1)
    assert [str(m["To"]) for m in smtp.messages] == ["Ana <ana@example.org>"]


def test_drafts_and_cancelled_events_send_no_reminders(app, smtp, make_event, make_registration):
    draft = make_event(
        slug="draft",
        status="draft",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=1)).isoformat(),
    )
    cancelled = make_event(
        slug="off",
        status="cancelled",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=1)).isoformat(),
    )
    for event in (draft, cancelled):
        make_registration(event.id, "ana@example.org", created_at=REGISTERED)
    with app.app_context():
        assert run(START - timedelta(hours=1)) == (0, 0)


def test_speakers_and_chair_get_a_brief(app, smtp, make_event):
    make_event(**timed())
    with app.app_context():
        assert run(START - timedelta(days=2, minutes=1)) == (0, 0)
        assert run(START - timedelta(days=2)) == (2, 2)
        assert run(START - timedelta(days=1)) == (0, 0)
        assert run(START - timedelta(hours=2)) == (2, 2)
    briefs = smtp.to("ollie@example.org")
    assert len(briefs) == 2
    text = briefs[0].get_body(("plain",)).get_content()
    assert briefs[0]["Subject"] == "Speaker brief: Solidarity meeting"
    assert "Please join by 18:00 BST for a technical check." in text
    assert f"Joining link: {SECRET_JOIN_URL}" in text
    assert "1. Ollie Vargas, Journalist" in text
    assert "2. Christine Blower (chair), LFPLA" in text
    assert len(smtp.to("christine@example.org")) == 2


def test_custom_offsets(app, smtp, make_event, make_registration):
    event = make_event(
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
        attendee_reminder_offsets=[7 * 24 * 60],
        speaker_reminder_offsets=[],
    )
    make_registration(event.id, "ana@example.org", created_at=REGISTERED)
    with app.app_context():
        assert run(START - timedelta(days=7)) == (1, 1)
        assert run(START - timedelta(hours=1)) == (0, 0)


def test_upcoming_shows_who_gets_what_and_when(app, smtp, make_event, make_registration, runner):
    event = make_event(**timed())
    make_registration(event.id, "ana@example.org", name="Ana", created_at=REGISTERED)
    late = START - timedelta(hours=3)
    make_registration(event.id, "late@example.org", name="Late", created_at=late)
    with app.app_context():
        run(START - timedelta(days=1, hours=1))  # the speakers' two-day briefs
        run(START - timedelta(days=1))
        planned = upcoming_reminders(
            events.get_event("solidarity-meeting"), START - timedelta(hours=2, minutes=30)
        )
    rows = [(p.kind.value, p.minutes_before, p.name, p.status) for p in planned]
    assert ("reminder", 1440, "Ana", "sent") in rows
    assert ("reminder", 1440, "Late", "too late") in rows
    assert ("reminder", 60, "Late", "scheduled") in rows
    assert ("speaker_reminder", 2880, "Ollie Vargas", "sent") in rows
    assert ("speaker_reminder", 120, "Ollie Vargas", "scheduled") in rows
    result = runner.invoke(args=["reminders", "upcoming", "solidarity-meeting"])
    assert "Ana <ana@example.org>" in result.output
    assert "Sun 18 Apr 2027 18:30 BST" in result.output


def test_outbox_rows_hold_one_per_reminder(app, smtp, event, make_registration):
    for number in range(5):
        make_registration(event.id, f"p{number}@example.org", created_at=REGISTERED)
    with app.app_context():
        sweep_reminders(START - timedelta(hours=1))
        sweep_reminders(START - timedelta(minutes=59))
        assert db.session.query(OutboxMessage).filter_by(kind=MessageKind.REMINDER).count() == 5

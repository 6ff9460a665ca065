"""Speakers' briefs with speakers in the loop: who gets one, in which language, what their
"stop these briefs" stops, and what the scheduled-mail page says once the time moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from service.events import service as events
from service.events.models import EventPerson, SpeakerAnswer
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind
from service.reminders.service import sweep_reminders, upcoming_reminders
from tests.organisers.conftest import logged_in, make_organiser, manager_of

__all__ = ["make_organiser"]

START = datetime(2027, 4, 19, 17, 30, tzinfo=UTC)  # 18:30 in London (BST)


def timed(start: datetime = START, **fields):
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "attendee_reminder_offsets": [],
        **fields,
    }


def run(now: datetime) -> tuple[int, int]:
    queued = sweep_reminders(now)
    return queued, mail.dispatch_due(now).sent


def set_person(app, name: str, **fields) -> None:
    with app.app_context():
        person = db.session.scalar(db.select(EventPerson).filter_by(name=name))
        for field, value in fields.items():
            setattr(person, field, value)
        db.session.commit()


def test_a_speaker_who_declined_gets_no_brief_and_one_who_has_not_answered_does(
    app, smtp, make_event
):
    make_event(**timed())
    set_person(app, "Ollie Vargas", answer=SpeakerAnswer.DECLINED, answered_at=START)
    set_person(app, "Christine Blower", invited_at=START - timedelta(days=9))
    with app.app_context():
        assert run(START - timedelta(days=2)) == (1, 1)
    assert smtp.to("ollie@example.org") == []
    [brief] = smtp.to("christine@example.org")
    text = brief.get_body(("plain",)).get_content()
    assert "Ollie Vargas" not in text  # nor on the running order
    assert "1. Christine Blower (chair), LFPLA" in text


def test_a_brief_goes_in_the_speakers_language(app, smtp, make_event):
    make_event(**timed())
    set_person(app, "Ollie Vargas", language="es")
    with app.app_context():
        run(START - timedelta(days=2))
    [brief] = smtp.to("ollie@example.org")
    assert brief["Content-Language"] == "es"
    assert brief["Subject"] == "Información para ponentes: Reunión de solidaridad"


def test_stopping_one_events_briefs_leaves_the_next_events(app, smtp, make_event):
    later = START + timedelta(days=7)
    make_event(**timed())
    make_event(slug="next-meeting", title="Next meeting", **timed(later))
    with app.app_context():
        run(START - timedelta(days=2))
    [brief] = smtp.to("ollie@example.org")
    link = urlsplit(brief["List-Unsubscribe"].strip("<>")).path
    client = app.test_client()
    page = client.get(link).get_data(as_text=True)
    assert "briefs before this meeting" in page
    assert client.post(link).status_code == 200
    with app.app_context():
        assert run(START - timedelta(hours=2)) == (1, 1)  # Christine only
        assert run(later - timedelta(days=2)) == (2, 2)  # both, for the next meeting
        assert mail.is_unsubscribed("ollie@example.org", MessageKind.SPEAKER_REMINDER) is False
    subjects = [str(message["Subject"]) for message in smtp.to("ollie@example.org")]
    assert subjects == ["Speaker brief: Solidarity meeting", "Speaker brief: Next meeting"]


def test_a_brief_queued_before_the_unsubscribe_stops_at_the_dispatcher(app, smtp, make_event):
    event = make_event(**timed())
    with app.app_context():
        assert sweep_reminders(START - timedelta(days=2)) == 2
        mail.unsubscribe(
            mail.address_hash("ollie@example.org"),
            MessageKind.SPEAKER_REMINDER,
            START - timedelta(days=2),
            event.id,
        )
        result = mail.dispatch_due(START - timedelta(days=2))
    assert (result.sent, result.unsubscribed) == (1, 1)
    assert smtp.to("ollie@example.org") == []


def test_an_old_unsubscribe_from_every_brief_keeps_its_meaning(app, smtp, make_event):
    make_event(**timed())
    with app.app_context():
        mail.unsubscribe(
            mail.address_hash("ollie@example.org"), MessageKind.SPEAKER_REMINDER, START
        )
        assert run(START - timedelta(days=2)) == (1, 1)
    assert smtp.to("ollie@example.org") == []


def test_a_brief_superseded_by_a_time_change_is_not_shown_as_due(app, smtp, make_event):
    """Planned two days and two hours before; the meeting then moves to an hour from now.
    Only the latest due brief goes (the sweep's rule), so the two-day one is superseded."""
    now = START - timedelta(days=5)
    make_event(**timed())
    with app.app_context():
        states = {
            p.minutes_before: p.status
            for p in upcoming_reminders(events.get_event("solidarity-meeting"), now)
            if p.name == "Ollie Vargas"
        }
    assert states == {2880: "scheduled", 120: "scheduled"}
    make_event(**timed(now + timedelta(hours=1)))
    with app.app_context():
        event = events.get_event("solidarity-meeting")
        states = {p.minutes_before: p.status for p in upcoming_reminders(event, now)}
        assert states == {2880: "superseded", 120: "due"}
        run(now)
        states = {p.minutes_before: p.status for p in upcoming_reminders(event, now)}
        assert states == {2880: "superseded", 120: "sent"}
        after = now + timedelta(hours=2)
        assert {p.status for p in upcoming_reminders(event, after)} == {"superseded", "sent"}
    assert len(smtp.to("ollie@example.org")) == 1


def test_the_scheduled_mail_page_says_superseded(app, smtp, make_event, make_organiser):
    now = datetime.now(UTC)
    event = make_event(**timed(now + timedelta(hours=1)))
    client = app.test_client()
    logged_in(client, manager_of(app, make_organiser("rosa@example.org"), event.id))
    page = client.get("/organisers/events/solidarity-meeting/reminders").get_data(as_text=True)
    assert page.count("Not to be sent: a later one replaces it") == 2
    assert page.count("Due now") == 2  # the two-hour brief, to Ollie and Christine


def test_a_brief_missed_before_the_start_is_not_due_after_it(app, smtp, make_event):
    make_event(**timed())
    with app.app_context():
        event = events.get_event("solidarity-meeting")
        states = {
            p.minutes_before: p.status
            for p in upcoming_reminders(event, START + timedelta(minutes=5))
        }
    assert states == {2880: "superseded", 120: "missed"}

"""After an event's retention period no personal data of its attendees is left anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func, select

from service.events.models import Question, QuestionKind
from service.extensions import db
from service.mail import service as mail
from service.organisers.retention import apply_retention
from service.registration import service as registration
from service.registration.models import Answer, Registration, RegistrationStatus

START = datetime(2026, 1, 10, 18, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
PEOPLE = [
    ("Evo Añez-Quispe", "evo.quispe@example.org"),
    ("Rosa Choquehuanca", "rosa.ch@example.org"),
]


def everything_in_the_database() -> str:
    """Every text value in every table, as one string to search."""
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            values.extend(str(value) for value in row if value is not None)
    return "\n".join(values)


def test_personal_data_goes_and_counts_stay(app, smtp, make_event, runner):
    event = make_event(
        slug="old-meeting",
        starts_at=START.isoformat(),
        ends_at=END.isoformat(),
        capacity=1,
        speaker_reminder_offsets=[],
    )
    with app.app_context():
        question = Question(event_id=event.id, kind=QuestionKind.SHORT_TEXT, label="Union?")
        db.session.add(question)
        db.session.commit()
        for name, email in PEOPLE:
            attendee = registration.Attendee(name, email, "Bolivia Solidarity Campaign")
            registration.register("old-meeting", attendee, "es", START - timedelta(days=5))
        for row in db.session.scalars(select(Registration)):
            db.session.add(
                Answer(
                    registration_id=row.id, question_id=question.id, value=f"Union of {row.name}"
                )
            )
        db.session.commit()
        from service.reminders.service import sweep_reminders

        sweep_reminders(START - timedelta(hours=1))
        mail.dispatch_due(START - timedelta(hours=1))
        assert "evo.quispe@example.org" in everything_in_the_database()

        # Not yet: the default period is 90 days after the end.
        assert apply_retention(END + timedelta(days=89)) == []
        assert "Evo Añez-Quispe" in everything_in_the_database()

        done = apply_retention(END + timedelta(days=90))
        assert [event.slug for event in done] == ["old-meeting"]
        remaining = everything_in_the_database()
        for name, email in PEOPLE:
            for fragment in (name, email, "Quispe", "Choquehuanca", "evo.quispe", "rosa.ch"):
                assert fragment not in remaining
        assert "Bolivia Solidarity Campaign" not in remaining
        counts = dict(
            db.session.execute(
                select(Registration.status, func.count()).group_by(Registration.status)
            ).all()
        )
        assert counts == {RegistrationStatus.CONFIRMED: 1, RegistrationStatus.WAITING: 1}
        assert apply_retention(END + timedelta(days=200)) == []  # once is enough
    assert "nothing to remove" in runner.invoke(args=["retention", "apply"]).output


def test_an_events_own_period(app, make_event, make_registration):
    event = make_event(
        slug="short-keep", starts_at=START.isoformat(), ends_at=END.isoformat(), retention_days=7
    )
    make_registration(event.id, "keep.short@example.org", created_at=START - timedelta(days=1))
    with app.app_context():
        assert [e.slug for e in apply_retention(END + timedelta(days=7))] == ["short-keep"]
        assert "keep.short@example.org" not in everything_in_the_database()

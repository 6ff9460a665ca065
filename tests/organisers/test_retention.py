"""After an event's retention period no personal data of its attendees is left anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from service.events.models import Question, QuestionKind
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind
from service.organisers.service import create_organiser
from service.registration import service as registration
from service.registration.messages import send_announcement
from service.registration.models import Answer, Registration, RegistrationStatus
from service.registration.retention import apply_retention
from service.reminders.service import sweep_reminders

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


# An event long over by the machine's clock, so that `flask retention apply` (which reads it)
# finds its period passed.
LONG_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=200)
COMEBACK = ("Wara Mamani-Condori", "wara.condori@example.net")  # cancels, registers again
STAYER = ("Tupaq Illimani", "tupaq.illimani@example.net")
FRAGMENTS = (
    *COMEBACK,
    *STAYER,
    "Mamani",
    "Condori",
    "Illimani",
    "wara.condori",
    "tupaq",
    "Sindicato de Wara",
    "Sindicato nuevo de Wara",
    "Cooperativa de Tupaq",
    "Federación Illimani",
)


@pytest.fixture
def app_config(tmp_path, monkeypatch):
    """An instance folder of this test's own, with mail written to it (the default backend)."""
    monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path / "instance"))
    return {"MAIL_BACKEND": "file", "MAIL_SERVER": "", "MAIL_FILE_DIR": ""}


def leftovers(app) -> list[str]:
    """Which fragments of the people's data are still anywhere: any text column of any table,
    any file under the instance folder, and on SQLite the database's own files."""
    found = []
    with app.app_context():
        everything = everything_in_the_database()
        files = [path for path in Path(app.instance_path).rglob("*") if path.is_file()]
        if db.engine.dialect.name == "sqlite":
            database = Path(db.engine.url.database)
            files += [path for path in database.parent.glob(database.name + "*") if path.is_file()]
    contents = [path.read_bytes() for path in files]
    for fragment in FRAGMENTS:
        if fragment in everything:
            found.append(f"table: {fragment}")
        encoded = fragment.encode()
        found += [f"{path}: {fragment}" for path, data in zip(files, contents) if encoded in data]
    return found


def test_retention_leaves_nothing_of_anyone_in_any_table_or_file(app, make_event, runner):
    start, end = LONG_AGO, LONG_AGO + timedelta(hours=2)
    event = make_event(slug="long-ago", starts_at=start.isoformat(), ends_at=end.isoformat())
    before = start - timedelta(days=10)
    with app.app_context():
        question = Question(event_id=event.id, kind=QuestionKind.SHORT_TEXT, label="Union?")
        db.session.add(question)
        db.session.commit()
        first = registration.register(
            "long-ago",
            registration.Attendee(*COMEBACK, "Federación Illimani"),
            "es",
            before,
            answers={question.id: "Sindicato de Wara"},
        )
        registration.register(
            "long-ago",
            registration.Attendee(*STAYER, "Cooperativa de Tupaq"),
            "en",
            before,
            answers={question.id: "Cooperativa de Tupaq"},
        )
        mail.dispatch_due(before)  # both confirmations written as .eml files
        registration.cancel_registration(first, before + timedelta(days=1))
        mail.dispatch_due(before + timedelta(days=1))
        registration.register(
            "long-ago",
            registration.Attendee(*COMEBACK),
            "es",
            before + timedelta(days=2),
            answers={question.id: "Sindicato nuevo de Wara"},
        )
        organiser = create_organiser("organisers@example.org", "a long enough password")
        send_announcement(organiser, event, "registered", "Bring a banner", "See you there", before)
        sweep_reminders(start - timedelta(hours=1))
        mail.dispatch_due(start - timedelta(hours=1))
        # Queued by an earlier version, which named no event: mail of a deleted registration.
        mail.queue_message(
            kind=MessageKind.CONFIRMATION,
            dedupe_key="legacy",
            to=COMEBACK[1],
            name=COMEBACK[0],
            language="es",
            template="registration/confirmation",
            params={"registration_id": 10_000, "calendar": False},
            now=before,
        )
        db.session.commit()
        # A copy left by an earlier version, whose row was deleted and its file forgotten.
        outbox = Path(app.instance_path) / "outbox"
        (outbox / "left-behind_at_example.eml").write_text(f"To: {STAYER[1]}\r\n\r\nHello\r\n")
        assert len(list(outbox.glob("*.eml"))) >= 7

    assert len(leftovers(app)) > len(FRAGMENTS)  # everything is findable before

    result = runner.invoke(args=["retention", "apply"])
    assert "removed attendees' personal data of long-ago" in result.output
    assert leftovers(app) == []
    with app.app_context():
        assert registration.confirmed_count(event.id) == 2  # the counts stay

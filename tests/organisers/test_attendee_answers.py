"""Answers to the event's own questions in the attendee table: a column per question, escaped,
long ones folded away, and only for whoever may see attendees' details."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient

from service.access import service as access
from service.access.models import EventRole
from service.events.models import Question, QuestionKind
from service.extensions import db
from service.registration.models import Answer
from tests.organisers.conftest import logged_in

ATTENDEES = "/organisers/events/solidarity-meeting/attendees"
LONG = "I use a wheelchair and need step-free access from the station, " * 3


def with_answers(app, make_event, make_registration):
    event = make_event()
    with app.app_context():
        union = Question(
            event_id=event.id,
            position=0,
            kind=QuestionKind.SHORT_TEXT,
            label="Which trade union are you a member of, if any?",
            label_es="¿De qué sindicato eres miembro, si de alguno?",
        )
        needs = Question(event_id=event.id, position=1, kind=QuestionKind.LONG_TEXT, label="Needs")
        db.session.add_all([union, needs])
        db.session.commit()
        ids = union.id, needs.id
    ana = make_registration(
        event.id, "ana@example.org", created_at=datetime(2027, 3, 1, tzinfo=UTC)
    )
    make_registration(event.id, "luis@example.org", created_at=datetime(2027, 3, 2, tzinfo=UTC))
    with app.app_context():
        db.session.add_all(
            [
                Answer(registration_id=ana.id, question_id=ids[0], value="<b>Unite</b>"),
                Answer(registration_id=ana.id, question_id=ids[1], value=LONG),
            ]
        )
        db.session.commit()
    return event


def test_each_question_is_a_column_and_answers_are_escaped(
    app, client: FlaskClient, organiser, make_event, make_registration
):
    with_answers(app, make_event, make_registration)
    page = logged_in(client, organiser).get(ATTENDEES).get_data(as_text=True)
    assert '<th class="answer" title="Which trade union are you a member of, if any?">' in page
    assert ">Which trade union are y…</th>" in page
    assert '<th class="answer" title="Needs">Needs</th>' in page
    assert "&lt;b&gt;Unite&lt;/b&gt;" in page and "<b>Unite</b>" not in page
    # A long answer shows its start, and the whole of it one click away.
    assert f"<summary>{LONG[:59]}…</summary>{LONG}</details>" in page
    client.get("/language/es")
    page = client.get(ATTENDEES).get_data(as_text=True)
    assert 'title="¿De qué sindicato eres miembro, si de alguno?"' in page


def test_the_door_sees_no_answers(app, client, make_organiser, make_event, make_registration):
    event = with_answers(app, make_event, make_registration)
    door = make_organiser("door@example.org")
    with app.app_context():
        access.grant_event_role(door.id, event.id, EventRole.DOOR)
    page = logged_in(client, door).get(ATTENDEES).get_data(as_text=True)
    assert "Ana" in page
    assert "Unite" not in page and "wheelchair" not in page and 'class="answer"' not in page

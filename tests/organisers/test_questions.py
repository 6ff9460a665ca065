"""The event's own questions: asked in the registration form, in both languages, exported."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from service.extensions import db
from service.registration.models import Answer
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in, manager_of
from tests.registration.fixtures import csrf_token, submit_registration

QUESTIONS = "/organisers/events/solidarity-meeting/questions"


@pytest.fixture
def organiser(app, make_event, make_organiser):
    account = manager_of(app, make_organiser("organiser@example.org"), make_event().id)
    return logged_in(app.test_client(), account)


def add(client, **fields):
    return client.post(QUESTIONS, data={"csrf_token": csrf_token(client, QUESTIONS), **fields})


def test_questions_are_asked_answered_and_exported(app, organiser, client):
    add(organiser, kind="short_text", label="Which union?", label_es="¿Qué sindicato?")
    add(
        organiser,
        kind="choice",
        label="Join how?",
        choices="Online | En línea\nIn person",
        required="y",
    )
    add(organiser, kind="checkbox", label="Need captions?", label_es="¿Subtítulos?")
    assert "Give at least two choices." in text_of(
        add(organiser, kind="choice", label="Bad", choices="Only one")
    )

    page = text_of(client.get("/events/solidarity-meeting"))
    assert "Which union?" in page and "Join how?" in page and "Need captions?" in page
    spanish = text_of(client.get("/events/solidarity-meeting", headers={"Accept-Language": "es"}))
    assert "¿Qué sindicato?" in spanish and "En línea" in spanish

    missing = submit_registration(client, email="a@example.org")
    assert missing.status_code == 400
    assert "Please answer this question." in text_of(missing)
    with app.app_context():
        ids = [q.id for q in db.session.scalars(select(Answer.question_id))]
        assert ids == []
        from service.events.service import get_event

        union, how, captions = get_event("solidarity-meeting").questions
    response = submit_registration(
        client,
        email="a@example.org",
        **{
            f"question_{union.id}": "=CMD|' /C calc'!A0",
            f"question_{how.id}": "Online",
            f"question_{captions.id}": "y",
        },
    )
    assert response.status_code == 302
    forged = submit_registration(client, email="b@example.org", **{f"question_{how.id}": "Hacked"})
    assert forged.status_code == 400

    exported = organiser.post(
        "/organisers/events/solidarity-meeting/export.csv",
        data={
            "csrf_token": csrf_token(organiser, "/organisers/events/solidarity-meeting/attendees"),
            "columns": [
                "name",
                f"q{union.id}: Which union?",
                f"q{how.id}: Join how?",
                f"q{captions.id}: Need captions?",
            ],
        },
    )
    [row] = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert row[f"q{union.id}: Which union?"] == "'=CMD|' /C calc'!A0".replace("|", "\\|")
    assert row[f"q{how.id}: Join how?"] == "Online"
    assert row[f"q{captions.id}: Need captions?"] == "yes"

    organiser.post(
        f"{QUESTIONS}/{union.id}/remove", data={"csrf_token": csrf_token(organiser, QUESTIONS)}
    )
    with app.app_context():
        assert len(db.session.scalars(select(Answer)).all()) == 2

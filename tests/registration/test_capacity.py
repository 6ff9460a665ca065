"""Capacity is never exceeded: saving an event holds it to its confirmed count, and a raised
limit fills places from the waiting list at once (``registration.service.fit_capacity``)."""

from __future__ import annotations

import functools
import json
import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from service import create_app
from service.events.models import Event
from service.events.schema import EventDataError
from service.extensions import db
from service.mail.models import OutboxMessage
from service.registration import service as registering
from service.registration.models import Registration, RegistrationStatus
from tests.conftest import base_config, close_database
from tests.events.fixtures import event_data
from tests.registration.test_rush import START, rush, serving

FUTURE = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)
NOW = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)
WHEN = {"starts_at": FUTURE.isoformat(), "ends_at": (FUTURE + timedelta(hours=2)).isoformat()}


def document(**overrides):
    return event_data(**{**WHEN, **overrides})


@pytest.fixture
def event(app, make_event):
    """Three places taken, three waiting (in that order)."""
    event = make_event(**WHEN, capacity=3)
    with app.app_context():
        for n in range(6):
            registering.register(
                event.slug, registering.Attendee(f"P{n}", f"p{n}@example.org"), "en", NOW
            )
    return event


def statuses(app) -> list[tuple[str, RegistrationStatus]]:
    with app.app_context():
        return [
            (row.email, row.status)
            for row in db.session.scalars(select(Registration).order_by(Registration.id))
        ]


def promotion_mails(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage.recipient)
                .where(OutboxMessage.template == "registration/promoted")
                .order_by(OutboxMessage.id)
            )
        )


CONFIRMED, WAITING = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING
BEFORE = [(f"p{n}@example.org", CONFIRMED if n < 3 else WAITING) for n in range(6)]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "3 people are already confirmed; the capacity cannot go below 3."),
        ("es", "Ya hay 3 personas confirmadas; la capacidad no puede bajar de 3."),
    ],
)
def test_lowering_below_the_confirmed_count_is_refused_and_nothing_is_saved(
    app, event, language, message
):
    with (
        app.test_request_context(),
        force_locale(language),
        pytest.raises(EventDataError) as refused,
    ):
        registering.update_event(
            event.slug, document(capacity=2, title="Renamed"), notify=False, now=NOW
        )
    assert refused.value.by_field == {"capacity": [message]}
    with app.app_context():
        saved = db.session.scalar(select(Event).where(Event.id == event.id))
        assert (saved.capacity, saved.title) == (3, "Solidarity meeting")
    assert statuses(app) == BEFORE
    assert promotion_mails(app) == []


def test_lowering_to_exactly_the_confirmed_count_works(app, event):
    with app.app_context():
        saved = registering.update_event(event.slug, document(capacity=3), notify=False, now=NOW)
        assert (saved.event.capacity, saved.promoted) == (3, 0)
    assert statuses(app) == BEFORE


def test_raising_the_capacity_promotes_first_come_first_served_and_mails_each(app, event):
    with app.app_context():
        saved = registering.update_event(event.slug, document(capacity=5), notify=False, now=NOW)
        assert saved.promoted == 2
    assert statuses(app) == [
        *BEFORE[:3],
        ("p3@example.org", CONFIRMED),
        ("p4@example.org", CONFIRMED),
        ("p5@example.org", WAITING),
    ]
    assert promotion_mails(app) == ["p3@example.org", "p4@example.org"]


def test_removing_the_limit_takes_everyone_waiting(app, event):
    with app.app_context():
        saved = registering.update_event(event.slug, document(capacity=None), notify=False, now=NOW)
        assert saved.promoted == 3
    assert {status for _email, status in statuses(app)} == {CONFIRMED}
    assert promotion_mails(app) == ["p3@example.org", "p4@example.org", "p5@example.org"]


def test_saving_and_telling_registrants_is_one_unit_of_work(app, event):
    """A new time and a raised limit: two promoted, everyone not cancelled told once."""
    later = FUTURE + timedelta(days=1)
    changes = document(
        capacity=5, starts_at=later.isoformat(), ends_at=(later + timedelta(hours=2)).isoformat()
    )
    with app.app_context():
        saved = registering.update_event(event.slug, changes, notify=True, now=NOW)
        assert (saved.changed, saved.told, saved.promoted) == ({"starts_at", "ends_at"}, 6, 2)
        told = db.session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.template == "registration/event_changed"
            )
        )
        assert sorted(told) == [f"p{n}@example.org" for n in range(6)]


def test_a_cancelled_event_promotes_nobody(app, event):
    with app.app_context():
        saved = registering.update_event(
            event.slug, document(capacity=10, status="cancelled"), notify=False, now=NOW
        )
        assert saved.promoted == 0
    assert statuses(app) == BEFORE


SEATS, RAISED, PEOPLE = 10, 25, 40


def _raise_capacity(database_url: str, done, ready) -> None:
    """The organiser saving a bigger room while the rush is on."""
    ready.wait(60)
    time.sleep(0.05)  # some registrations first, the rest around and after the save
    app = create_app(base_config(database_url))
    with app.app_context():
        saved = registering.update_event(
            "rush", _rush_event(RAISED), notify=False, now=datetime.now(UTC)
        )
        done.put(saved.promoted)
    close_database(app)


def _rush_event(capacity: int) -> dict:
    return event_data(
        slug="rush",
        capacity=capacity,
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
    )


def test_raising_the_capacity_during_a_rush(database_backend, tmp_path):
    """40 people over real HTTP (gunicorn, two workers) while the limit goes from 10 to 25:
    afterwards exactly the first 25 by arrival have places and the rest wait, in order."""
    done = multiprocessing.get_context("fork").Queue()
    with serving(database_backend, tmp_path, capacity=SEATS) as (base_url, database_url):
        raise_capacity = functools.partial(_raise_capacity, database_url, done)
        answers = rush(base_url, [{} for _ in range(PEOPLE)], alongside=raise_capacity)
        promoted = done.get(timeout=5)
        assert Counter(answers.values()) == {302: PEOPLE}

        app = create_app(base_config(database_url))
        with app.app_context():
            rows = list(db.session.scalars(select(Registration).order_by(Registration.id)))
            promotions = db.session.scalar(
                select(func.count()).where(OutboxMessage.template == "registration/promoted")
            )
        close_database(app)
        assert [row.status for row in rows] == [CONFIRMED] * RAISED + [WAITING] * (PEOPLE - RAISED)
        assert promotions == promoted == sum(row.promoted_at is not None for row in rows)


def test_flask_events_import_holds_the_capacity_rule_too(app, event, runner, tmp_path):
    lowered = tmp_path / "lowered.json"
    lowered.write_text(json.dumps(document(capacity=2)))
    result = runner.invoke(args=["events", "import", str(lowered)])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert "capacity 2 is below the 3 confirmed" in result.output

    raised = tmp_path / "raised.json"
    raised.write_text(json.dumps(document(capacity=4)))
    result = runner.invoke(args=["events", "import", str(raised)])
    assert result.exit_code == 0, result.output
    assert [status for _email, status in statuses(app)] == [
        *[RegistrationStatus.CONFIRMED] * 4,
        *[RegistrationStatus.WAITING] * 2,
    ]
    assert promotion_mails(app) == ["p3@example.org"]

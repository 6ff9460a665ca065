"""A rush on both parts of a hybrid event over real HTTP: separate processes against gunicorn
with two workers, half asking for the room and half for online."""

from __future__ import annotations

import http.cookiejar
import json
import multiprocessing
import urllib.parse
import urllib.request
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service import create_app
from service.extensions import db
from service.registration.models import Registration, RegistrationMode, RegistrationStatus
from service.registration.notifications import waiting_position
from tests.conftest import base_config, close_database, make_database
from tests.events.fixtures import event_data
from tests.registration.test_rush import CSRF, START, NoRedirect
from tests.server import gunicorn, run_flask, server_env

ROOM_SEATS, ONLINE_SEATS, PER_PART = 10, 10, 30
CONFIRMED, WAITING = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING


def _person(base_url: str, number: int, ready: Any, results: Any) -> None:
    """One person's browser: the form, then (with everyone else) the room or online."""
    cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    opener = urllib.request.build_opener(cookies, NoRedirect)
    page = opener.open(f"{base_url}/events/rush/register", timeout=30).read().decode()
    mode = RegistrationMode.IN_PERSON if number % 2 else RegistrationMode.ONLINE
    body = urllib.parse.urlencode(
        {
            "csrf_token": CSRF.search(page).group(1),
            "name": f"Person {number}",
            "email": f"p{number}@example.org",
            "mode": mode.value,
        }
    ).encode()
    ready.wait(60)
    try:
        status = opener.open(f"{base_url}/events/rush/register", data=body, timeout=60).status
    except urllib.error.HTTPError as answer:
        status = answer.code
    results.put((number, status))


@pytest.fixture
def served(database_backend, tmp_path):
    """A fresh database with a hybrid event of 10 room and 10 online places, on gunicorn."""
    database = make_database(database_backend, tmp_path)
    try:
        env = server_env(
            database.url, tmp_path, RATELIMIT_ENABLED="false", SESSION_COOKIE_SECURE="false"
        )
        run_flask(["db", "upgrade"], env)
        event = event_data(
            slug="rush",
            format="hybrid",
            venue="Conway Hall",
            capacity=ROOM_SEATS,
            online_capacity=ONLINE_SEATS,
            starts_at=START.isoformat(),
            ends_at=(START + timedelta(hours=2)).isoformat(),
        )
        (tmp_path / "event.json").write_text(json.dumps(event))
        run_flask(["events", "import", str(tmp_path / "event.json")], env)
        with gunicorn(env, tmp_path / "gunicorn.log") as base_url:
            yield base_url, database.url
    finally:
        database.drop()


def test_sixty_at_once_for_ten_room_and_ten_online_seats(served):
    base_url, database_url = served
    people = 2 * PER_PART
    context = multiprocessing.get_context("fork")
    ready, results = context.Barrier(people), context.Queue()
    processes = [
        context.Process(target=_person, args=(base_url, n, ready, results)) for n in range(people)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    answers = dict(results.get(timeout=5) for _ in range(people))
    assert Counter(answers.values()) == {302: people}

    app = create_app(base_config(database_url))
    with app.app_context():
        rows = list(db.session.scalars(select(Registration).order_by(Registration.id)))
        by_part = {
            mode: [(row.status, row.email) for row in rows if row.mode is mode]
            for mode in RegistrationMode
        }
        positions = {
            mode: [waiting_position(row) for row in rows if row.mode is mode and row.is_waiting]
            for mode in RegistrationMode
        }
    close_database(app)
    assert len(rows) == people
    for mode, seats in (
        (RegistrationMode.IN_PERSON, ROOM_SEATS),
        (RegistrationMode.ONLINE, ONLINE_SEATS),
    ):
        part = by_part[mode]
        # Each asked for the part it got, and the part took them one at a time, by arrival
        # (ids are handed out under the lock): the first ten have the seats, the rest wait.
        assert len(part) == PER_PART
        assert [status for status, _email in part] == (
            [CONFIRMED] * seats + [WAITING] * (PER_PART - seats)
        )
        assert positions[mode] == list(range(1, PER_PART - seats + 1))
    room_emails = {email for _status, email in by_part[RegistrationMode.IN_PERSON]}
    assert room_emails == {f"p{n}@example.org" for n in range(1, people, 2)}

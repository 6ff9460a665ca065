"""A rush over real HTTP: separate processes against gunicorn with two workers."""

from __future__ import annotations

import http.cookiejar
import json
import multiprocessing
import re
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service import create_app
from service.extensions import db
from service.registration.models import Registration, RegistrationStatus
from service.registration.notifications import waiting_position
from tests.conftest import base_config, close_database, make_database
from tests.events.fixtures import event_data
from tests.server import gunicorn, run_flask, server_env

SEATS, PEOPLE = 20, 60
START = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _person(base_url: str, number: int, fields: dict[str, str], ready: Any, results: Any) -> None:
    """One person's browser: load the page (cookie and form token), wait for the rest, send."""
    cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    opener = urllib.request.build_opener(cookies, NoRedirect)
    page = opener.open(f"{base_url}/events/rush/register", timeout=30).read().decode()
    token = CSRF.search(page).group(1)
    body = urllib.parse.urlencode(
        {
            "csrf_token": token,
            "name": f"Person {number}",
            "email": f"p{number}@example.org",
            **fields,
        }
    ).encode()
    ready.wait(60)
    try:
        status = opener.open(f"{base_url}/events/rush/register", data=body, timeout=60).status
    except urllib.error.HTTPError as answer:
        status = answer.code
    results.put((number, status))


def rush(
    base_url: str,
    fields: list[dict[str, str]],
    alongside: Callable[[Any], None] | None = None,
) -> dict[int, int]:
    """Everyone at once: person ``n`` (``p{n}@example.org``, with ``fields[n]`` added to the
    form) in a process of their own, all sending together, and ``alongside`` in one more
    (given the barrier everyone waits at). The status each person got, by ``n``."""
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(len(fields) + (alongside is not None))
    results = context.Queue()
    processes = [
        context.Process(target=_person, args=(base_url, n, extra, ready, results))
        for n, extra in enumerate(fields)
    ]
    if alongside is not None:
        processes.append(context.Process(target=alongside, args=(ready,)))
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    return dict(results.get(timeout=5) for _ in fields)


@contextmanager
def serving(database_backend: str, tmp_path: Path, **event: Any) -> Iterator[tuple[str, str]]:
    """A fresh database with the event ``rush`` (``event_data`` with ``event``), served by
    gunicorn with 2 workers: its address and the database's."""
    database = make_database(database_backend, tmp_path)
    try:
        env = server_env(
            database.url, tmp_path, RATELIMIT_ENABLED="false", SESSION_COOKIE_SECURE="false"
        )
        run_flask(["db", "upgrade"], env)
        document = event_data(
            slug="rush",
            starts_at=START.isoformat(),
            ends_at=(START + timedelta(hours=2)).isoformat(),
            **event,
        )
        (tmp_path / "event.json").write_text(json.dumps(document))
        run_flask(["events", "import", str(tmp_path / "event.json")], env)
        with gunicorn(env, tmp_path / "gunicorn.log") as base_url:
            yield base_url, database.url
    finally:
        database.drop()


@pytest.fixture
def served(database_backend, tmp_path):
    """A 20-seat event, served by gunicorn with 2 workers."""
    with serving(database_backend, tmp_path, capacity=SEATS) as addresses:
        yield addresses


def test_sixty_at_once_for_twenty_seats(served):
    base_url, database_url = served
    answers = rush(base_url, [{} for _ in range(PEOPLE)])
    assert Counter(answers.values()) == {302: PEOPLE}

    app = create_app(base_config(database_url))
    with app.app_context():
        rows = list(db.session.scalars(select(Registration).order_by(Registration.id)))
        positions = [waiting_position(row) for row in rows[SEATS:]]
    close_database(app)
    assert len(rows) == PEOPLE
    assert Counter(row.status for row in rows) == {
        RegistrationStatus.CONFIRMED: SEATS,
        RegistrationStatus.WAITING: PEOPLE - SEATS,
    }
    # Arrival order: the server took them one at a time (ids are handed out under the lock);
    # the first twenty have the seats and the waiting list runs in the same order.
    assert [row.status for row in rows] == (
        [RegistrationStatus.CONFIRMED] * SEATS + [RegistrationStatus.WAITING] * (PEOPLE - SEATS)
    )
    assert positions == list(range(1, PEOPLE - SEATS + 1))


def test_the_rate_limit_is_shared_by_workers_through_redis(database_backend, tmp_path):
    database = make_database(database_backend, tmp_path)
    try:
        env = server_env(
            database.url,
            tmp_path,
            RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
            RATELIMIT_KEY_PREFIX=f"convoca-test-{uuid.uuid4().hex}",
            REGISTRATION_RATE_LIMIT="5 per minute",
            SESSION_COOKIE_SECURE="false",  # plain HTTP on loopback
        )
        run_flask(["db", "upgrade"], env)
        (tmp_path / "event.json").write_text(
            json.dumps(
                event_data(
                    slug="rush",
                    starts_at=START.isoformat(),
                    ends_at=(START + timedelta(hours=2)).isoformat(),
                )
            )
        )
        run_flask(["events", "import", str(tmp_path / "event.json")], env)
        with gunicorn(env, tmp_path / "gunicorn.log") as base_url:
            statuses = []
            for number in range(12):
                cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
                opener = urllib.request.build_opener(cookies, NoRedirect)
                page = opener.open(f"{base_url}/events/rush/register", timeout=30).read().decode()
                body = urllib.parse.urlencode(
                    {
                        "csrf_token": CSRF.search(page).group(1),
                        "name": "P",
                        "email": f"p{number}@example.org",
                    }
                ).encode()
                try:
                    statuses.append(
                        opener.open(
                            f"{base_url}/events/rush/register", data=body, timeout=30
                        ).status
                    )
                except urllib.error.HTTPError as answer:
                    statuses.append(answer.code)
        # Two workers each counting alone would let up to ten through.
        assert Counter(statuses) == {302: 5, 429: 7}
    finally:
        database.drop()

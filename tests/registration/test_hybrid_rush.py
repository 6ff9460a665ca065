"""A rush on both parts of a hybrid event over real HTTP: separate processes against gunicorn
with two workers, half asking for the room and half for online."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from service import create_app
from service.extensions import db
from service.registration.models import Registration, RegistrationMode, RegistrationStatus
from service.registration.notifications import waiting_position
from tests.conftest import base_config, close_database
from tests.registration.test_rush import rush, serving

ROOM_SEATS, ONLINE_SEATS, PER_PART = 10, 10, 30
CONFIRMED, WAITING = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING


@pytest.fixture
def served(database_backend, tmp_path):
    """A hybrid event of 10 room and 10 online places, served by gunicorn with 2 workers."""
    with serving(
        database_backend,
        tmp_path,
        format="hybrid",
        venue="Conway Hall",
        capacity=ROOM_SEATS,
        online_capacity=ONLINE_SEATS,
    ) as addresses:
        yield addresses


def test_sixty_at_once_for_ten_room_and_ten_online_seats(served):
    base_url, database_url = served
    people = 2 * PER_PART
    # Odd numbers ask for the room, even ones for online.
    modes = [
        RegistrationMode.IN_PERSON if n % 2 else RegistrationMode.ONLINE for n in range(people)
    ]
    answers = rush(base_url, [{"mode": mode.value} for mode in modes])
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

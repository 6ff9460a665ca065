"""A lock not had in time: "please try again", nothing stored, never a 500 or an overbooking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from service.db import SQLITE_BEGIN_OPTION
from service.extensions import db
from service.registration.models import Registration
from tests.events.test_pages import text_of
from tests.mail.fixtures import smtp_config
from tests.registration.fixtures import submit_registration

START = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False, "LOCK_WAIT_SECONDS": 0.5}


def test_a_held_lock_gives_a_friendly_try_again(app, client, make_event, migrated_database):
    make_event(starts_at=START.isoformat(), ends_at=(START + timedelta(hours=2)).isoformat())
    other = sa.create_engine(migrated_database.url)
    with other.connect() as connection:
        # Someone else is registering for the same event right now and holds the lock: on
        # SQLite the database's write lock, on PostgreSQL the event's row.
        connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"}).begin()
        connection.exec_driver_sql(
            "SELECT id FROM events WHERE slug = 'solidarity-meeting'"
            + (" FOR UPDATE" if connection.dialect.name == "postgresql" else "")
        )
        response = submit_registration(client, email="ana@example.org")
        connection.rollback()
    other.dispose()
    assert response.status_code == 503
    page = text_of(response)
    assert "Please try again" in page
    assert "Nothing was saved" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert submit_registration(client, email="ana@example.org").status_code == 302

"""The scheduler's heartbeat and /healthz: 200 while the database answers and a scheduler
beats, 503 otherwise, in JSON without personal data, never cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service import create_app
from service.db import utc_now
from service.extensions import db
from service.ops import service
from service.ops.models import SchedulerHeartbeat
from tests.conftest import base_config, close_database
from tests.mail.fixtures import free_port

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)


def beat(app, seconds_ago: float, process: str = "web-1:4242") -> None:
    with app.app_context():
        now = utc_now()
        service.record_heartbeat(
            process, now - timedelta(hours=1), now - timedelta(seconds=seconds_ago)
        )


def test_a_process_beats_in_one_row_and_silent_processes_are_forgotten(app, app_context):
    service.record_heartbeat("old:1", NOW - timedelta(days=30), NOW - timedelta(days=8))
    service.record_heartbeat("host:7", NOW, NOW)
    service.record_heartbeat("host:7", NOW, NOW + timedelta(seconds=30))
    rows = db.session.execute(select(SchedulerHeartbeat.process, SchedulerHeartbeat.last_seen_at))
    assert rows.all() == [("host:7", NOW + timedelta(seconds=30))]
    assert service.heartbeat_age(NOW + timedelta(seconds=40)) == timedelta(seconds=10)


def test_healthy_with_a_recent_heartbeat(app, client):
    beat(app, seconds_ago=20)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": "ok",
        "scheduler_last_seen_seconds": 20,
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "web-1" not in response.get_data(as_text=True)  # no host names


@pytest.mark.parametrize(
    ("seconds_ago", "scheduler"), [(None, "missing"), (121, "late")], ids=["never", "stale"]
)
def test_unhealthy_without_a_recent_heartbeat(app, client, seconds_ago, scheduler):
    if seconds_ago is not None:
        beat(app, seconds_ago)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert (body["status"], body["database"], body["scheduler"]) == ("fail", "ok", scheduler)
    assert response.headers["Cache-Control"] == "no-store"


def test_unhealthy_when_the_database_does_not_answer():
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/convoca"
    app = create_app(base_config(unreachable))
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {
            "status": "fail",
            "database": "fail",
            "scheduler": "unknown",
            "scheduler_last_seen_seconds": None,
        }
    finally:
        close_database(app)


def test_healthz_is_not_a_form(app, client):
    beat(app, seconds_ago=0)
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200

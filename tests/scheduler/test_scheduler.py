"""The scheduler: off unless configured, once under the reloader, and mail out within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.db import begin_writing
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind, MessageStatus, OutboxMessage
from service.scheduler.service import start_in_process
from tests.mail.fixtures import smtp_config


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "SCHEDULER_DISPATCH_SECONDS": 1}


def queue_now(app) -> None:
    with app.app_context():
        begin_writing(db.session)  # the scheduler's thread writes too (SQLite: write lock first)
        mail.queue_message(
            kind=MessageKind.ANNOUNCEMENT,
            dedupe_key="now",
            to="ana@example.org",
            name="Ana",
            language="en",
            template="test_message",
            params={"body": "hello"},
            now=datetime.now(UTC),
        )
        db.session.commit()


def wait_for(condition, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_not_started_unless_enabled(app):
    assert start_in_process(app) is None
    assert "scheduler" not in app.extensions


def test_the_reloaders_watching_parent_does_not_start_it(app, monkeypatch):
    app.config.update(SCHEDULER_ENABLED=True, DEBUG=True)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert start_in_process(app) is None


def test_in_process_scheduler_sends_new_mail_within_seconds(app, smtp, monkeypatch):
    app.config.update(SCHEDULER_ENABLED=True, DEBUG=True)
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # the reloader's serving child
    scheduler = start_in_process(app)
    try:
        assert scheduler is not None
        assert {job.id for job in scheduler.get_jobs()} == {"sweep", "dispatch", "retention"}
        assert start_in_process(app) is None  # once per process
        queued_at = time.monotonic()
        queue_now(app)
        assert wait_for(lambda: len(smtp.messages) == 1)
        assert time.monotonic() - queued_at < 10
    finally:
        scheduler.shutdown(wait=True)


def test_flask_scheduler_run_as_its_own_process(app, smtp, migrated_database, tmp_path):
    queue_now(app)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOCA_")}
    env.update(
        FLASK_APP="wsgi",
        DATABASE_URL=migrated_database.url,
        CONVOCA_SECRET_KEY="test",
        CONVOCA_INSTANCE_PATH=str(tmp_path),
        CONVOCA_MAIL_SERVER="127.0.0.1",
        CONVOCA_MAIL_PORT=str(smtp.port),
        CONVOCA_SCHEDULER_DISPATCH_SECONDS="1",
    )
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    process = subprocess.Popen(
        [flask, "scheduler", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(lambda: len(smtp.messages) == 1, seconds=30)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "scheduler running" in output
    with app.app_context():
        sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "now"))
        assert sent.status == MessageStatus.SENT
        assert sent.sent_at > datetime.now(UTC) - timedelta(minutes=1)

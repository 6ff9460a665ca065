"""The scheduler: off unless configured, once under the reloader, and mail out within seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from service.db import unit_of_work
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind, MessageStatus, OutboxMessage
from service.ops.models import SchedulerHeartbeat
from service.scheduler.service import start_in_process
from tests.mail.fixtures import SMTPSink, free_port, smtp_config


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "SCHEDULER_DISPATCH_SECONDS": 1}


def queue_now(app) -> None:
    # The scheduler's thread writes too (SQLite: write lock first).
    with app.app_context(), unit_of_work():
        mail.queue_message(
            kind=MessageKind.ANNOUNCEMENT,
            dedupe_key="now",
            to="ana@example.org",
            name="Ana",
            language="en",
            template="mail/test_message",
            params={"body": "hello"},
            now=datetime.now(UTC),
        )


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
        assert {job.id for job in scheduler.get_jobs()} == {
            "heartbeat",
            "sweep",
            "follow_ups",
            "dispatch",
            "retention",
        }
        assert start_in_process(app) is None  # once per process
        queued_at = time.monotonic()
        queue_now(app)
        assert wait_for(lambda: len(smtp.messages) == 1)
        assert time.monotonic() - queued_at < 10
        assert app.test_client().get("/healthz").status_code == 200  # it beats too
    finally:
        scheduler.shutdown(wait=True)


def scheduler_env(database_url: str, smtp_port: int, instance_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOCA_")}
    env.update(
        FLASK_APP="wsgi",
        DATABASE_URL=database_url,
        CONVOCA_SECRET_KEY="test",
        CONVOCA_PUBLIC_URL="https://events.example.org",
        CONVOCA_INSTANCE_PATH=str(instance_path),
        CONVOCA_MAIL_SERVER="127.0.0.1",
        CONVOCA_MAIL_PORT=str(smtp_port),
        CONVOCA_SCHEDULER_DISPATCH_SECONDS="1",
    )
    return env


def start_scheduler(env: dict[str, str]) -> subprocess.Popen[str]:
    """``flask scheduler run`` as a background job starts it: with SIGINT ignored (``trap ''``
    is inherited through ``exec``, as under nohup, setsid or many CI runners)."""
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.Popen(
        ["sh", "-c", f"trap '' INT; exec {flask} scheduler run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_scheduler(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> str:
    """Send ``signum``; the scheduler must exit 0 within a few seconds. Returns its output."""
    process.send_signal(signum)
    try:
        output, _ = process.communicate(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"the scheduler did not stop within {STOP_SECONDS}s:\n{output}")
    assert process.returncode == 0, output
    return output


STOP_SECONDS = 8


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_flask_scheduler_run_sends_mail_then_stops_cleanly_on_a_signal_even_run_in_background(
    app, smtp, migrated_database, tmp_path, signum
):
    queue_now(app)
    process = start_scheduler(scheduler_env(migrated_database.url, smtp.port, tmp_path))
    try:
        assert wait_for(lambda: len(smtp.messages) == 1, seconds=30)
    finally:
        output = stop_scheduler(process, signum)
    assert "scheduler running" in output
    assert f"scheduler stopped ({signal.Signals(signum).name})" in output
    with app.app_context():
        sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "now"))
        assert sent.status == MessageStatus.SENT
        assert sent.sent_at > datetime.now(UTC) - timedelta(minutes=1)
        [beat] = db.session.scalars(select(SchedulerHeartbeat)).all()
        assert beat.process == f"{socket.gethostname()}:{process.pid}"
        assert beat.last_seen_at > datetime.now(UTC) - timedelta(minutes=1)


class SlowRelay(SMTPSink):
    """A relay that takes ``delay`` seconds to accept each message; ``receiving`` is set
    when the first one starts to arrive."""

    def __init__(self, port: int, delay: float) -> None:
        super().__init__(port)
        self.delay = delay
        self.receiving = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.receiving.set()
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_relay():
    relay = SlowRelay(free_port(), delay=2)
    controller = Controller(relay, hostname="127.0.0.1", port=relay.port)
    controller.start()
    yield relay
    controller.stop()


def test_sigterm_during_a_slow_send_delivers_every_message_exactly_once_after_a_restart(
    app, slow_relay, migrated_database, tmp_path
):
    with app.app_context(), unit_of_work():
        for n in range(4):
            mail.queue_message(
                kind=MessageKind.ANNOUNCEMENT,
                dedupe_key=f"slow:{n}",
                to=f"p{n}@example.org",
                name=f"P{n}",
                language="en",
                template="mail/test_message",
                params={"body": "hello"},
                now=datetime.now(UTC),
            )
    env = scheduler_env(migrated_database.url, slow_relay.port, tmp_path)

    process = start_scheduler(env)
    try:
        assert slow_relay.receiving.wait(30)  # the first message is on the wire
    finally:
        stop_scheduler(process)
    assert len(slow_relay.messages) == 1  # the message in flight went; nothing after it
    with app.app_context():
        statuses = db.session.scalars(
            select(OutboxMessage.status).order_by(OutboxMessage.dedupe_key)
        ).all()
    assert statuses == [MessageStatus.SENT] + [MessageStatus.PENDING] * 3  # none left leased

    slow_relay.delay = 0
    process = start_scheduler(env)
    try:
        assert wait_for(lambda: len(slow_relay.messages) == 4, seconds=30)
    finally:
        stop_scheduler(process)
    assert sorted(str(m["To"]) for m in slow_relay.messages) == [
        f"P{n} <p{n}@example.org>" for n in range(4)
    ]
    assert set(slow_relay.count_by_message_id().values()) == {1}

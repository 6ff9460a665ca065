"""Two sweeps and two dispatchers in separate processes, at once, over 1,000 due reminders:
every reminder reaches the SMTP server exactly once."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from service import create_app
from service.extensions import db
from service.mail.models import MessageStatus, OutboxMessage
from service.registration.models import Registration
from tests.conftest import base_config
from tests.mail.fixtures import smtp_config

START = datetime(2027, 4, 19, 17, 30, tzinfo=UTC)
NOW = START - timedelta(hours=1)
ATTENDEES = 1000
DEADLINE = 120  # seconds


def _worker(role: str, config: dict[str, Any], sweeps_done: Any, errors: Any) -> None:
    """A separate process: sweep twice, or dispatch until the sweeps are done and none is due."""
    from service.mail.service import dispatch_due
    from service.reminders.service import sweep_reminders

    try:
        app = create_app(config)
        with app.app_context():
            if role == "sweep":
                for _ in range(2):
                    sweep_reminders(NOW)
                return
            give_up = time.monotonic() + DEADLINE
            while time.monotonic() < give_up:
                swept = sweeps_done.is_set()  # before the pass: all it could queue is visible
                if dispatch_due(NOW).attempted == 0:
                    if swept:
                        return
                    time.sleep(0.05)
    except Exception as error:  # reported to the test, which fails with it
        errors.put(f"{role}: {error!r}")
        raise


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "MAIL_BATCH_SIZE": 50}


def test_two_sweeps_and_two_dispatchers_send_each_reminder_once(
    app, smtp, make_event, migrated_database
):
    event = make_event(
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
        speaker_reminder_offsets=[],
    )
    with app.app_context():
        db.session.execute(
            insert(Registration),
            [
                {
                    "event_id": event.id,
                    "name": f"Person {number}",
                    "email": f"person{number}@example.org",
                    "language": "es" if number % 3 == 0 else "en",
                    "status": "confirmed",
                    "organisation": "",
                    "created_at": START - timedelta(days=3),
                }
                for number in range(ATTENDEES)
            ],
        )
        db.session.commit()

    config = base_config(migrated_database.url, **smtp_config(smtp), MAIL_BATCH_SIZE=50)
    context = multiprocessing.get_context("spawn")
    sweeps_done, errors = context.Event(), context.Queue()
    sweeps = [
        context.Process(target=_worker, args=("sweep", config, sweeps_done, errors))
        for _ in range(2)
    ]
    dispatchers = [
        context.Process(target=_worker, args=("dispatch", config, sweeps_done, errors))
        for _ in range(2)
    ]
    for process in dispatchers + sweeps:
        process.start()
    for process in sweeps:
        process.join(DEADLINE)
    sweeps_done.set()
    for process in dispatchers:
        process.join(DEADLINE)
    problems = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert problems == []
    assert [p.exitcode for p in sweeps + dispatchers] == [0, 0, 0, 0]

    per_message_id = smtp.count_by_message_id()
    assert len(per_message_id) == ATTENDEES
    assert set(per_message_id.values()) == {1}
    per_recipient = Counter(str(message["To"].addresses[0].addr_spec) for message in smtp.messages)
    assert len(per_recipient) == ATTENDEES and set(per_recipient.values()) == {1}
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    assert statuses == {MessageStatus.SENT: ATTENDEES}

"""Reminders through the whole mail pipeline (sweep into the outbox, dispatch over SMTP) against
plain smtplib sending messages of the same shape to the same aiosmtpd sink.

    .venv/bin/python bench/reminders.py [--db all] [--count 10000] [--json] [--app-root PATH]
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import harness
from harness import BenchError, Database, Row

TARGET = 0.5
START = datetime(2027, 4, 19, 17, 30, tzinfo=UTC)
NOW = START - timedelta(hours=1)  # the one-hour reminder is due, the one-day one is past
SENDER = "Friends of Bolivia <events@friendsofbolivia.example>"


def _sink(connection: Any) -> None:
    """Child process: aiosmtpd on a free port, counting Message-IDs; "take" returns them."""
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self) -> None:
            self.ids: list[str] = []

        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
            headers = envelope.content.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
            found = [
                line for line in headers.splitlines() if line.lower().startswith("message-id:")
            ]
            self.ids.append(found[0].split(":", 1)[1].strip() if found else "")
            return "250 2.0.0 OK"

    handler = Handler()
    controller = Controller(handler, hostname=harness.LOOPBACK, port=harness.free_port())
    controller.start()
    connection.send(controller.port)
    while connection.recv() == "take":
        connection.send(handler.ids)
        handler.ids = []
    controller.stop()


def pipeline(count: int, port: int) -> dict[str, Any]:
    """Run inside the app root: ``count`` confirmed registrations, then ``sweep_reminders`` and
    ``dispatch_due`` until nothing is due, timed; the Message-IDs and a few messages."""
    from sqlalchemy import func, insert, select

    from service import create_app
    from service.events.models import Event
    from service.extensions import db
    from service.mail.models import OutboxMessage
    from service.mail.service import dispatch_due
    from service.registration.models import Registration
    from service.reminders.service import sweep_reminders

    app = create_app(
        {
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": harness.LOOPBACK,
            "MAIL_PORT": port,
            "MAIL_DEFAULT_SENDER": SENDER,
            "SCHEDULER_ENABLED": False,
        }
    )
    with app.app_context():
        event_id = db.session.scalar(select(Event.id).where(Event.slug == "reminder-bench"))
        for first in range(0, count, 5000):
            rows = [
                {
                    "event_id": event_id,
                    "name": f"Person {n}",
                    "email": f"person{n}@example.org",
                    "language": "es" if n % 3 == 0 else "en",
                    "status": "confirmed",
                    "organisation": "",
                    "created_at": START - timedelta(days=3),
                }
                for n in range(first, min(first + 5000, count))
            ]
            db.session.execute(insert(Registration), rows)
        db.session.commit()
        wall, cpu = time.perf_counter(), time.process_time()
        queued = sweep_reminders(NOW)
        sweep = time.perf_counter() - wall
        sent = attempted = 1
        while attempted:  # dispatch_due stops after a batch; call it until nothing is due
            result = dispatch_due(NOW)
            if result.retrying or result.failed:
                raise RuntimeError(f"dispatch_due: {result.errors[:3]}")
            sent, attempted = sent + result.sent, result.attempted
        seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
        samples = [
            {"subject": m.subject, "text": m.body_text, "html": m.body_html, "reply_to": m.reply_to}
            for m in db.session.scalars(select(OutboxMessage).limit(12))
        ]
        statuses = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        ids = list(db.session.scalars(select(OutboxMessage.message_id)))
    return {
        "queued": queued,
        "sent": sent - 1,
        "sweep": sweep,
        "seconds": seconds,
        "cpu": cpu,
        "statuses": {getattr(key, "value", key): value for key, value in statuses.items()},
        "ids": ids,
        "samples": samples,
    }


def send_plain(samples: list[dict[str, str]], count: int, port: int) -> tuple[float, set[str]]:
    """``count`` messages built beforehand from ``samples``, sent over one smtplib connection;
    (seconds from connect to QUIT, their Message-IDs)."""
    messages = []
    for number in range(count):
        sample, message = samples[number % len(samples)], EmailMessage()
        message["Subject"], message["From"] = sample["subject"], SENDER
        message["To"], message["Reply-To"] = f"person{number}@example.org", sample["reply_to"]
        message["Message-ID"] = make_msgid(domain="friendsofbolivia.example")
        message.set_content(sample["text"])
        message.add_alternative(sample["html"], subtype="html")
        messages.append(message)
    started = time.perf_counter()
    with smtplib.SMTP(harness.LOOPBACK, port, timeout=30) as connection:
        for message in messages:
            connection.send_message(message)
    return time.perf_counter() - started, {str(message["Message-ID"]) for message in messages}


def scenario(args: argparse.Namespace, database: Database) -> tuple[list[Row], list[str]]:
    app = harness.App(args.app_root)
    env = app.env(database)
    app.flask(env, "db", "upgrade")
    event = harness.event_document(
        "reminder-bench",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
        speaker_reminder_offsets=[],
    )
    harness.import_events(app, env, database, event)
    parent, child = multiprocessing.get_context("spawn").Pipe()
    sink = multiprocessing.get_context("spawn").Process(target=_sink, args=(child,), daemon=True)
    sink.start()
    try:
        if not parent.poll(30):
            raise BenchError("the SMTP sink did not start")
        port = parent.recv()
        ours = app.call(env, "reminders.py", "pipeline", count=args.count, port=port)
        parent.send("take")
        received = parent.recv()
        plain_seconds, plain_ids = send_plain(ours["samples"], args.count, port)
        parent.send("take")
        plain_received = parent.recv()
    finally:
        parent.send("stop")
        sink.join(10)
    if (
        ours["queued"] != args.count
        or ours["sent"] != args.count
        or ours["statuses"] != {"sent": args.count}
    ):
        raise BenchError(f"queued {ours['queued']}, sent {ours['sent']}, outbox {ours['statuses']}")
    if sorted(received) != sorted(ours["ids"]) or sorted(plain_received) != sorted(plain_ids):
        raise BenchError("the sink did not receive every message exactly once")
    row = harness.throughput(
        f"reminders_pipeline_{database.kind}",
        args.count / ours["seconds"],
        args.count / plain_seconds,
        "msg/s",
        TARGET,
    )
    cpu_ms = ours["cpu"] * 1000 / args.count
    row.note = f"sweep {ours['sweep']:.2f} s of {ours['seconds']:.2f} s, {cpu_ms:.2f} ms CPU/msg"
    return [row], [
        f"{args.count:,} reminders; baseline: plain smtplib over one connection, same sink"
    ]


if __name__ == "__main__":
    parser = harness.parser(__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    arguments = parser.parse_args()
    raise SystemExit(harness.main(scenario, arguments, "Reminders through the outbox"))

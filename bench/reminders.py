"""Throughput of reminders through the whole mail pipeline against plain smtplib in the same run.

    .venv/bin/python bench/reminders.py [--count 10000] [--json] [--database-url URL] [--strict]

Set-up: a temporary instance directory and SQLite database (or, with ``--database-url``, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``, a throwaway database
``convoca_bench_<random>`` created on that server and dropped at the end), migrated with
``flask_migrate.upgrade()``; one published online event starting 2027-04-19 17:30 UTC with
speaker reminders off, and ``--count`` confirmed registrations (a third in Spanish), inserted in
bulk. An aiosmtpd server on a free loopback port, in a process of its own so that it does not
share this process's interpreter lock, accepts every message and records its Message-ID.

Measured ("ours"), with the app's default mail settings (batch size and so on):
``sweep_reminders(now)`` an hour before the start (puts every due reminder in the outbox), then
``dispatch_due(now)`` until nothing is due (claims batches; renders, builds and sends each
message over SMTP; records it as sent). The sink must receive exactly ``--count`` messages
with ``--count`` distinct Message-IDs, the outbox's own, or the run fails.

Baseline: ``--count`` ``EmailMessage`` objects of the same shape (multipart text + HTML, the
same headers; bodies copied from a few of the rendered reminders, each with its own To and
Message-ID) built beforehand, then sent with plain ``smtplib`` over one connection to the same
sink. Only the sending (connect to QUIT) is timed.

Both sides run on the same machine as the sink, so absolute figures mean little: the row is
reported as a ratio (ours msg/s ÷ baseline msg/s, above 1 is better). The table also shows the
split between sweep and dispatch, and the CPU this process spent per message.

With ``--json`` the last line printed is a JSON list of rows
``{"name", "value", "unit", "baseline", "ratio", "target"}``. The exit status is 0 when the
measurement ran (whatever the ratio; ``--strict`` makes a ratio below target exit 2) and 1 when
it could not run or the sink did not receive every message exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import re
import signal
import smtplib
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
LOOPBACK = "127.0.0.1"
TARGET = 0.5  # queue + send through the outbox at half the speed of bare smtplib at least
START = datetime(2027, 4, 19, 17, 30, tzinfo=UTC)
NOW = START - timedelta(hours=1)  # the one-hour reminder is due, the one-day one is past
SENDER = "Friends of Bolivia <events@friendsofbolivia.example>"
ORGANISER = "organisers@friendsofbolivia.example"
SAMPLES = 12  # rendered reminders the baseline's messages are copied from
SINK_START_TIMEOUT = 30.0
SMTP_TIMEOUT = 30.0


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


class TimeLimit(BenchError):
    """The whole run took longer than ``--timeout``."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


# --- The SMTP sink, in a process of its own -------------------------------------------------

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S[^\r\n]*)", re.IGNORECASE | re.MULTILINE)


class _CountingHandler:
    """Accepts every message; keeps its Message-ID (read from the raw headers, not parsed)."""

    def __init__(self) -> None:
        self.total = 0
        self.message_ids: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        content: bytes = envelope.content
        headers = content.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(headers)
        self.total += 1
        self.message_ids.append(found.group(1).strip().decode("ascii", "replace") if found else "")
        return "250 2.0.0 OK"


def _sink_main(connection: Any) -> None:
    """Child process: aiosmtpd on a free loopback port; answers "take" and "stop" on the pipe."""
    from aiosmtpd.controller import Controller

    handler = _CountingHandler()
    controller = None
    error = ""
    for _attempt in range(5):  # the free port could be taken between probe and bind
        try:
            candidate = Controller(handler, hostname=LOOPBACK, port=free_port())
            candidate.start()
            controller = candidate
            break
        except Exception as problem:  # reported to the parent
            error = repr(problem)
    if controller is None:
        connection.send(("error", error))
        return
    try:
        connection.send(("port", controller.port))
        while True:
            try:
                command = connection.recv()
            except EOFError:  # the parent is gone
                return
            if command == "take":  # what arrived since the last "take"
                taken = (handler.total, handler.message_ids)
                handler.total, handler.message_ids = 0, []
                connection.send(taken)
            else:
                return
    finally:
        controller.stop()


class Sink:
    """The aiosmtpd sink's process, started and stopped by this script."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self.process = context.Process(target=_sink_main, args=(child,), daemon=True)
        self.port = 0

    def start(self) -> None:
        self.process.start()
        try:
            if not self._connection.poll(SINK_START_TIMEOUT):
                raise BenchError(f"the SMTP sink did not start in {SINK_START_TIMEOUT:.0f} s")
            kind, value = self._connection.recv()
        except (EOFError, OSError) as error:
            raise BenchError(f"the SMTP sink's process ended at start ({error!r})") from error
        if kind != "port":
            raise BenchError(f"the SMTP sink did not start: {value}")
        self.port = int(value)

    def take(self) -> tuple[int, list[str]]:
        """(messages, their Message-IDs) received since the last call."""
        try:
            self._connection.send("take")
            if not self._connection.poll(SINK_START_TIMEOUT):
                raise BenchError("the SMTP sink stopped answering")
            return self._connection.recv()
        except (EOFError, OSError) as error:
            raise BenchError(f"the SMTP sink's process is gone ({error!r})") from error

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self._connection.send("stop")
            self.process.join(10)
            if self.process.is_alive():
                self.process.terminate()  # the process this script started
                self.process.join(5)
        self._connection.close()


def check_received(label: str, received: tuple[int, list[str]], expected: set[str]) -> None:
    total, message_ids = received
    distinct = set(message_ids)
    if total != len(expected) or len(distinct) != len(expected) or distinct != expected:
        raise BenchError(
            f"{label}: the sink received {total} messages with {len(distinct)} distinct "
            f"Message-IDs ({len(distinct - expected)} unexpected, {len(expected - distinct)} "
            f"missing); expected exactly {len(expected)}, each once"
        )


# --- The database --------------------------------------------------------------------------


class Database:
    """SQLite in the temporary directory, or a throwaway database on a PostgreSQL server."""

    def __init__(self, server_url: str | None, tmp_path: Path) -> None:
        from sqlalchemy.engine import make_url

        from service.config import normalise_database_url

        self.name: str | None = None
        self.admin_url: str | None = None
        if server_url is None:
            self.url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
            self.label = "SQLite (temporary file)"
            return
        admin = make_url(normalise_database_url(server_url))
        if admin.get_backend_name() != "postgresql":
            raise BenchError("--database-url must name a PostgreSQL server (postgresql+psycopg://)")
        self.name = f"convoca_bench_{uuid.uuid4().hex[:12]}"
        self.admin_url = admin.render_as_string(hide_password=False)
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self.label = f"PostgreSQL ({admin.set(database=self.name).render_as_string()})"

    def create(self) -> None:
        if self.name is None:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        except sa.exc.SQLAlchemyError as error:
            self.name = None  # nothing to drop
            raise BenchError(f"cannot create a database: {str(error).splitlines()[0]}") from error
        finally:
            engine.dispose()

    def drop(self) -> None:
        if self.name is None:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.name = None
        except sa.exc.SQLAlchemyError as error:
            log(f"warning: could not drop database {self.name}: {str(error).splitlines()[0]}")
        finally:
            engine.dispose()


def app_config(database_url: str, sink_port: int) -> dict[str, Any]:
    return {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "https://events.example.org",
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": LOOPBACK,
        "MAIL_PORT": sink_port,
        "MAIL_TIMEOUT": SMTP_TIMEOUT,
        "MAIL_DEFAULT_SENDER": SENDER,
        "ORGANISER_EMAIL": ORGANISER,
        "SCHEDULER_ENABLED": False,
    }


def isolate_environment(instance: Path) -> None:
    """No Convoca/Flask settings of the caller, and an empty instance folder (no config.py)."""
    for key in list(os.environ):
        if key.startswith(("CONVOCA_", "FLASK_")) or key == "DATABASE_URL":
            del os.environ[key]
    os.environ["CONVOCA_INSTANCE_PATH"] = str(instance)


def event_document() -> dict[str, Any]:
    """One published online event, in the JSON organisers import (as the tests' event_data)."""
    return {
        "slug": "reminder-bench",
        "title": "Solidarity meeting",
        "title_es": "Reunión de solidaridad",
        "summary": "Speakers from La Paz on the struggle",
        "summary_es": "Ponentes desde La Paz sobre la lucha",
        "description": "We meet to **organise**.",
        "description_es": "Nos reunimos para **organizarnos**.",
        "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/London",
        "extra_timezones": ["America/La_Paz"],
        "format": "online",
        "join_url": "https://meet.example.org/bench-room-4821",
        "status": "published",
        "organised_by": "Friends of Bolivia",
        "supporters": ["Labour Friends of Progressive Latin America"],
        "speaker_reminder_offsets": [],  # only attendee reminders count
        "people": [
            {
                "name": "Ollie Vargas",
                "role": "speaker",
                "affiliation": "Journalist",
                "email": "ollie@example.org",
            },
        ],
    }


def set_up(count: int) -> None:
    """Migrate, import the event, insert ``count`` confirmed registrations (app context)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from service.events.service import import_events
    from service.extensions import db
    from service.registration.models import Registration

    upgrade()
    [(event, _created)] = import_events(event_document())
    registered = START - timedelta(days=3)
    chunk = 5000
    for first in range(0, count, chunk):
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
                    "created_at": registered,
                }
                for number in range(first, min(first + chunk, count))
            ],
        )
    db.session.commit()


# --- The two measurements ------------------------------------------------------------------


@dataclass
class Timing:
    seconds: float
    cpu_seconds: float  # this process's CPU meanwhile

    def rate(self, count: int) -> float:
        return count / self.seconds


def run_pipeline(count: int) -> tuple[Timing, Timing, set[str]]:
    """Sweep then dispatch (app context); the two timings and the outbox's Message-IDs."""
    from sqlalchemy import func, select

    from service.extensions import db
    from service.mail.models import MessageStatus, OutboxMessage
    from service.mail.service import dispatch_due
    from service.reminders.service import sweep_reminders

    db.session.remove()
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    queued = sweep_reminders(NOW)
    sweep = Timing(time.perf_counter() - wall, time.process_time() - cpu)
    if queued != count:
        raise BenchError(f"sweep_reminders queued {queued} reminders, expected {count}")
    log(f"  sweep: {queued:,} reminders queued in {sweep.seconds:.2f} s")

    wall, cpu = time.perf_counter(), time.process_time()
    sent = 0
    while True:  # dispatch_due stops after a short batch; call it until nothing is due
        result = dispatch_due(NOW)
        if result.retrying or result.failed:
            raise BenchError(
                f"dispatch_due: {result.retrying} to retry, {result.failed} failed: "
                f"{result.errors[:3]}"
            )
        sent += result.sent
        if result.attempted == 0:
            break
        if sent > count:
            raise BenchError(f"dispatch_due sent {sent} messages, more than the {count} queued")
    dispatch = Timing(time.perf_counter() - wall, time.process_time() - cpu)
    log(f"  dispatch: {sent:,} messages sent in {dispatch.seconds:.2f} s")

    statuses = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    if sent != count or statuses != {MessageStatus.SENT: count}:
        raise BenchError(f"dispatch_due sent {sent}; outbox by status: {statuses}")
    message_ids = set(db.session.scalars(select(OutboxMessage.message_id)))
    db.session.rollback()
    return sweep, dispatch, message_ids


def baseline_messages(count: int) -> list[EmailMessage]:
    """``count`` messages shaped like ours, copied from the first rendered reminders.

    One full message (headers, text and HTML parts) per sample; each of the ``count`` copies
    takes the sample's parsed headers and body parts as they are and gets its own To and
    Message-ID. Sending reads the parts and never changes them, and no copy has a MIME boundary
    yet, so each one still gets its own when it is sent, as our messages do.
    """
    from sqlalchemy import select

    from service.extensions import db
    from service.mail.models import OutboxMessage

    samples = list(
        db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id).limit(SAMPLES))
    )
    db.session.rollback()
    if not samples:
        raise BenchError("the outbox is empty: no message to copy for the baseline")
    templates = []
    for sample in samples:
        template = EmailMessage()
        template["Subject"] = sample.subject
        template["From"] = SENDER
        template["Reply-To"] = sample.reply_to
        template["Date"] = format_datetime(sample.created_at)
        template["List-Unsubscribe"] = f"<{sample.unsubscribe_url}>"
        template["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        template["Auto-Submitted"] = "auto-generated"
        template.set_content(sample.body_text)
        template.add_alternative(sample.body_html, subtype="html")
        template["Content-Language"] = sample.language
        templates.append(template)
    messages = []
    for number in range(count):
        template = templates[number % len(templates)]
        message = EmailMessage()
        message["To"] = Address(
            display_name=f"Person {number}", addr_spec=f"baseline{number}@example.org"
        )
        message["Message-ID"] = make_msgid(domain="friendsofbolivia.example")
        for name, value in template.items():  # header objects, stored without parsing again
            message[name] = value
        message.set_payload(list(template.get_payload()))
        messages.append(message)
    return messages


def run_baseline(messages: list[EmailMessage], port: int) -> Timing:
    """Plain smtplib, one connection, every message: connect to QUIT is timed."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        connection = smtplib.SMTP(LOOPBACK, port, timeout=SMTP_TIMEOUT)
        try:
            for message in messages:
                connection.send_message(message)
        finally:
            connection.quit()
    except (OSError, smtplib.SMTPException) as error:
        raise BenchError(f"baseline: smtplib failed: {error!r}") from error
    timing = Timing(time.perf_counter() - wall, time.process_time() - cpu)
    log(f"  baseline: {len(messages):,} messages sent in {timing.seconds:.2f} s")
    return timing


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="convoca-bench-") as tmp:
        tmp_path = Path(tmp)
        instance = tmp_path / "instance"
        instance.mkdir()
        isolate_environment(instance)
        sys.path.insert(0, str(PROJECT_ROOT))
        from service import create_app
        from service.extensions import db

        database = Database(args.database_url, tmp_path)
        sink = Sink()
        app = None
        try:
            sink.start()
            log(f"SMTP sink on {LOOPBACK}:{sink.port}; database: {database.label}")
            database.create()
            app = create_app(app_config(database.url, sink.port))
            with app.app_context():
                started = time.perf_counter()
                set_up(args.count)
                log(
                    f"set-up: migrated, {args.count:,} registrations in "
                    f"{time.perf_counter() - started:.1f} s"
                )
                log("measuring ours (sweep_reminders + dispatch_due):")
                sweep, dispatch, outbox_ids = run_pipeline(args.count)
                check_received("ours", sink.take(), outbox_ids)
                messages = baseline_messages(args.count)
            # The prepared messages are left out of garbage collection while they are sent, as
            # our side holds no such pile of objects.
            gc.collect()
            gc.freeze()
            try:
                log("measuring the baseline (plain smtplib, one connection):")
                baseline = run_baseline(messages, sink.port)
            finally:
                gc.unfreeze()
            check_received("baseline", sink.take(), {str(m["Message-ID"]) for m in messages})
            sizes = [len(m.as_bytes()) for m in messages[:SAMPLES]]
            del messages
        finally:
            signal.alarm(0)  # --timeout stops the measuring, never the cleaning up
            if app is not None:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            database.drop()
            sink.stop()

    ours_seconds = sweep.seconds + dispatch.seconds
    ours_rate = args.count / ours_seconds
    baseline_rate = baseline.rate(args.count)
    row = {
        "name": "reminders_pipeline",
        "value": round(ours_rate, 1),
        "unit": "msg/s",
        "baseline": round(baseline_rate, 1),
        "ratio": round(ours_rate / baseline_rate, 3),
        "target": TARGET,
    }
    return {
        "rows": [row],
        "count": args.count,
        "database": database.label.split(" (")[0],
        "sweep": sweep,
        "dispatch": dispatch,
        "baseline": baseline,
        "message_bytes": sum(sizes) / len(sizes),
    }


def print_table(report: dict[str, Any]) -> None:
    count = report["count"]
    print(
        f"{count:,} reminders through sweep_reminders + dispatch_due vs plain smtplib over one "
        f"connection, aiosmtpd sink on loopback, {report['database']}"
    )
    print(f"messages: multipart text + HTML, about {report['message_bytes']:,.0f} bytes each\n")
    header = f"{'name':<19} {'msg/s':>9} {'baseline':>16} {'ratio':>6} {'target':>6}"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        verdict = "ok" if row["ratio"] >= row["target"] else "BELOW TARGET"
        print(
            f"{row['name']:<19} {row['value']:>9,.1f} {row['baseline']:>10,.1f} {row['unit']:<5} "
            f"{row['ratio']:>6.3f} {row['target']:>6.2f}  {verdict}"
        )
    sweep, dispatch, baseline = report["sweep"], report["dispatch"], report["baseline"]
    total = sweep.seconds + dispatch.seconds
    print("\nsplit       seconds  share   msg/s  CPU ms/msg (this process)")
    for label, timing, share in (
        ("sweep", sweep, sweep.seconds / total),
        ("dispatch", dispatch, dispatch.seconds / total),
        ("ours total", Timing(total, sweep.cpu_seconds + dispatch.cpu_seconds), 1.0),
        ("baseline", baseline, None),
    ):
        shown = f"{share:>5.0%}" if share is not None else "     "
        print(
            f"{label:<10} {timing.seconds:>8.2f}  {shown} {timing.rate(count):>7,.0f}  "
            f"{timing.cpu_seconds * 1000 / count:>6.3f}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON, last line")
    parser.add_argument(
        "--count", type=int, default=10_000, help="reminders to send (default 10000)"
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to create (and drop) a throwaway database on, instead of SQLite",
    )
    parser.add_argument(
        "--timeout", type=int, default=900, help="give up after this many seconds (default 900)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 if a ratio is below target")
    args = parser.parse_args(argv)
    if args.count < 1 or args.timeout < 1:
        parser.error("--count and --timeout must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally that cleans up

    def out_of_time(_signum: int, _frame: object) -> None:
        raise TimeLimit(f"the run took over {args.timeout} s (--timeout)")

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.timeout)
    try:
        report = run(args)
    except BenchError as error:
        log(f"bench/reminders.py: {error}")
        return 1
    finally:
        signal.alarm(0)
    if args.json:
        print(json.dumps(report["rows"]))
    else:
        print_table(report)
    below = any(row["ratio"] < row["target"] for row in report["rows"])
    return 2 if args.strict and below else 0


if __name__ == "__main__":
    sys.exit(main())

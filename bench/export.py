"""The attendee CSV export over HTTP, time and worker memory, against the driver + csv.writer
dump of the same rows, measured in the same run.

    .venv/bin/python bench/export.py [--db all] [--rows 100000] [--json] [--app-root PATH]
"""

from __future__ import annotations

import argparse
import csv
import html
import http.cookiejar
import re
import secrets
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import harness
from harness import BenchError, Database, Row

SLUG, EMAIL, PASSWORD = "export-bench", "bench-organiser@example.org", secrets.token_urlsafe(18)
TIME_TARGET, MEMORY_CEILING_MB = 0.5, 50.0
QUESTION = "Which union or organisation are you with, if any?"
HEADER = "name,email,organisation,status,registered_at,language,keep_informed,keep_informed_at"
HEADER += ",checked_in,checked_in_at,joined,cancelled_at"
DUMP = """
import csv, sys, time
from pathlib import Path
kind, database, target, event_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def kb(name):
    return next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines()
                if l.startswith(name + ":"))
query = ("SELECT r.name, r.email, r.organisation, r.status, r.created_at, r.language,"
    " r.keep_informed, r.keep_informed_at, r.checked_in_at IS NOT NULL, r.checked_in_at,"
    " EXISTS (SELECT 1 FROM join_clicks j WHERE j.registration_id = r.id), r.cancelled_at"
    + (", a.value" if sys.argv[6] == "True" else ", NULL") + " FROM registrations r"
    " LEFT JOIN answers a ON a.registration_id = r.id WHERE r.event_id = {} ORDER BY r.id")
header = sys.argv[5].split(",")
if kind == "sqlite":
    import sqlite3
else:
    import psycopg
Path("/proc/self/clear_refs").write_text("5")  # the driver imported, VmHWM from now on
before, started = kb("VmRSS"), time.perf_counter()
if kind == "sqlite":
    connection = sqlite3.connect(database)
    cursor = connection.execute(query.format("?"), (event_id,))
else:
    connection = psycopg.connect(database)
    cursor = connection.cursor(name="export")  # server-side, as ours
    cursor.itersize = 1000
    cursor.execute(query.format("%s"), (event_id,))
with open(target, "w", encoding="utf-8", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(row[: len(header)] for row in cursor)
connection.close()
print(time.perf_counter() - started, (kb("VmHWM") - before) / 1024)
"""


def fill(rows: int) -> int:
    """Run inside the app root: ``rows`` registrations of every kind, join clicks, a question
    and everyone's answer, inserted in bulk; returns the event's id."""
    import sqlalchemy as sa

    from service import create_app
    from service.events.models import Event, Question, QuestionKind
    from service.extensions import db
    from service.registration.models import Answer, JoinClick, Registration, RegistrationStatus

    start = datetime(2031, 3, 1, 9, tzinfo=UTC)
    names = ["Ana Quispe", "Luis Mamani", "Wara Choquehuanca", "José Peña", "Sonia Vargas 🌹"]
    organisations = ["", "", "Unite", "Sindicato de Trabajadores Mineros", "=1+1"]
    with create_app().app_context():
        event_id = db.session.scalar(sa.select(Event.id).where(Event.slug == SLUG))
        for first in range(0, rows, 5000):
            batch = []
            for n in range(first, min(first + 5000, rows)):
                when = start + timedelta(seconds=n * 7)
                status = "cancelled" if n % 20 == 0 else "waiting" if n % 10 == 5 else "confirmed"
                status = RegistrationStatus(status)
                batch.append(
                    {
                        "event_id": event_id,
                        "name": f"{names[n % 5]} {n}",
                        "email": f"attendee{n:06d}@example.org",
                        "organisation": organisations[n % 5],
                        "language": "es" if n % 3 == 0 else "en",
                        "status": status,
                        "keep_informed": n % 4 == 0,
                        "keep_informed_at": when if n % 4 == 0 else None,
                        "link_secret": secrets.token_hex(16),
                        "created_at": when,
                        "cancelled_at": when + timedelta(days=3) if status == "cancelled" else None,
                        "checked_in_at": when + timedelta(days=30)
                        if status == "confirmed" and n % 3 == 0
                        else None,
                    }
                )
            db.session.execute(sa.insert(Registration.__table__), batch)
        table = Registration.__table__
        ids = sa.select(table.c.id).where(table.c.event_id == event_id)
        question_id = db.session.scalar(
            sa.insert(Question.__table__)
            .values(
                event_id=event_id,
                position=0,
                kind=QuestionKind.SHORT_TEXT,
                label=QUESTION,
                label_es=QUESTION,
                choices=[],
                required=False,
            )
            .returning(Question.__table__.c.id)
        )
        clicked = sa.literal(start + timedelta(days=30), JoinClick.__table__.c.clicked_at.type)
        db.session.execute(
            sa.insert(JoinClick.__table__).from_select(
                ["registration_id", "clicked_at"],
                ids.add_columns(clicked).where(table.c.id % 10 == 0),
            )
        )
        db.session.execute(
            sa.insert(Answer.__table__).from_select(
                ["registration_id", "question_id", "value"],
                ids.add_columns(sa.literal(question_id), sa.literal("Unite")),
            )
        )
        db.session.commit()
    return event_id


def export_ours(url: str, worker: int, target: Path) -> tuple[float, float, int, list[str]]:
    """Log in, open the attendee page, POST its export form with every column ticked and read
    the CSV to the end: (seconds from the POST to the last byte, the worker's peak RSS growth
    meanwhile in MB, rows, header)."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )

    def open_page(path: str, **fields: object) -> str:
        data = urllib.parse.urlencode(fields, doseq=True).encode() if fields else None
        with opener.open(url + path, data=data, timeout=120) as answer:
            return answer.read().decode()

    token = harness.CSRF.search(open_page("/organisers/login")).group(1)
    open_page("/organisers/login", csrf_token=token, email=EMAIL, password=PASSWORD)
    page = open_page(f"/organisers/events/{SLUG}/attendees")
    form = re.search(
        r'<form[^>]*action="([^"]*)"[^>]*>((?:(?!</form>).)*name="columns".*?)</form>', page, re.S
    )
    if form is None:
        raise BenchError("the attendee page has no export form (not logged in?)")
    columns = [
        html.unescape(c) for c in re.findall(r'name="columns"[^>]*value="([^"]*)"', form.group(2))
    ]
    body = urllib.parse.urlencode(
        {"csrf_token": harness.CSRF.search(form.group(2)).group(1), "columns": columns}, doseq=True
    ).encode()
    Path(f"/proc/{worker}/clear_refs").write_text("5")  # VmHWM from now on
    rss, started = harness.proc_kb(worker, "VmRSS"), time.perf_counter()
    with opener.open(url + html.unescape(form.group(1)), data=body, timeout=900) as answer:
        target.write_bytes(answer.read())
    seconds = time.perf_counter() - started
    growth = (harness.proc_kb(worker, "VmHWM") - rss) / 1024
    with target.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        return seconds, growth, sum(1 for _row in reader), header


def scenario(args: argparse.Namespace, database: Database) -> tuple[list[Row], list[str]]:
    app = harness.App(args.app_root)
    env = app.env(database)
    app.flask(env, "db", "upgrade")
    harness.import_events(app, env, database, harness.event_document(SLUG))
    app.flask(env, "organisers", "create", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    event_id = app.call(env, "export.py", "fill", rows=args.rows)
    with harness.Server("export", app, "wsgi:app", env, workers=1, timeout=900) as server:
        [worker] = server.worker_pids()
        seconds, growth, rows, ours_header = export_ours(server.url, worker, database.tmp / "o.csv")
    url = database.url if database.kind == "sqlite" else database.url.replace("+psycopg", "")
    url = url.removeprefix("sqlite:///")
    answers = len(ours_header) > len(HEADER.split(","))  # a column for the question's answers
    header = HEADER + (f",{QUESTION}" if answers else "")
    target = str(database.tmp / "dump.csv")
    dump = app.run(
        ["-c", DUMP, database.kind, url, target, str(event_id), header, str(answers)], env
    )
    dump_seconds, dump_growth = (float(value) for value in dump.split())
    records = database.scalar("SELECT count(*), sum(rows) FROM export_records")
    if ours_header[:12] != HEADER.split(",") or len(ours_header) > 13:
        raise BenchError(f"the export's columns are {ours_header}, not {header}")
    if rows != args.rows or tuple(records) != (1, args.rows):
        raise BenchError(f"the export has {rows} rows, export records {records}; {args.rows} made")
    suffix = f"_{database.kind}"
    found = [
        harness.duration_row("export_time" + suffix, seconds, dump_seconds, "s", TIME_TARGET),
        harness.duration_row(
            "export_memory_growth" + suffix, max(growth, 0.1), max(dump_growth, 0.1), "MB", None
        ),
    ]
    found[1].note = "PASS" if growth < MEMORY_CEILING_MB else "FAIL"
    found[1].note += f" (< {MEMORY_CEILING_MB:.0f} MB)"
    notes = [
        f"{args.rows:,} registrations, {len(ours_header)} columns (answers: {answers}); baseline: "
        "driver + csv.writer, same rows and columns"
    ]
    if growth >= MEMORY_CEILING_MB:
        raise BenchError(f"the export grew the worker by {growth:.1f} MB")
    return found, notes


if __name__ == "__main__":
    parser = harness.parser(__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    arguments = parser.parse_args()
    raise SystemExit(harness.main(scenario, arguments, "Attendee export over HTTP"))

"""Time and memory of the attendee CSV export over HTTP against a plain driver + csv dump of the
same rows measured in the same run, on SQLite and then on PostgreSQL.

    .venv/bin/python bench/export.py [--rows 100000] [--json] [--strict] [--profile]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres | --sqlite-only]

Set-up, once per database: a temporary instance directory and either a temporary SQLite file or
a throwaway database ``convoca_bench_<random>`` created on the PostgreSQL server of
``--database-url`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; skipped,
with a warning, when that default server does not answer) and dropped at the end. ``flask db
upgrade``, ``flask events import`` of one published event, ``flask organisers create …
--password-stdin``, then ``--rows`` registrations bulk-inserted with SQLAlchemy Core
(executemany): 85% registered, 10% waiting, 5% cancelled; a third of the registered checked in,
a quarter keeping informed, a third in Spanish, one in ten who joined online, names with
accents and emoji, an occasional formula-like organisation. Plus one custom question and an
answer from every registrant (``event_questions``, ``answers``), so the tables are as big as
real ones. The report says whether the export has a column for the answers (it had none when
this benchmark was written).

Measured ("ours"): ``gunicorn -w 1 -k sync --timeout 600`` on a free loopback port serving
``wsgi:app``. A real session logs in (GET the form, POST it with its CSRF token), loads the
attendee page, then POSTs to ``/organisers/events/<slug>/export.csv`` with every column its
export form offers ticked, reading the streamed body to the end into a file. Time: from
sending the POST to the last byte. Memory: the worker's VmRSS, sampled from /proc every 20 ms
by a thread, and its VmHWM (reset through /proc/<pid>/clear_refs first, where allowed); growth
is the peak over the RSS just before the POST. This is the worker's first export: nothing was
warmed up by an earlier one, so any row kept in memory would show.

Baseline: a subprocess that connects with the driver alone (sqlite3, or psycopg with a
server-side cursor of 1000 rows), SELECTs the same columns (the "joined" flag by EXISTS on
``join_clicks``, as ours; the answers by a LEFT JOIN when our export has their column) in the
same order and writes them, as the driver returns them, with ``csv.writer`` to a file; it
times itself from connecting to closing the file and reports its own peak RSS growth the same
way (VmRSS before the query, VmHWM after).

Checks: both files have a header and exactly ``--rows`` data rows, ours starting with the
standard column names and as many columns as the baseline's; the export left one ExportRecord
(web) of ``--rows`` rows. A failed check exits 1.

Rows (``_postgresql`` suffix for PostgreSQL): ``export_time`` (s; baseline = the driver + csv
dump's time; ratio = baseline ÷ ours, above 1 is better; target 0.5, i.e. at most twice the
baseline's time) and ``export_memory_growth`` (MB; baseline = the dump's own growth; ratio =
baseline ÷ ours; target null: reported only, and checked on its own against an absolute
ceiling of 50 MB, printed PASS/FAIL). With ``--json`` the last line printed is the JSON list
of rows ``{"name", "value", "unit", "baseline", "ratio", "target"}``. The exit status is 0 when
the measurement ran (whatever the figures; ``--strict`` makes a ratio below target or a growth
over 50 MB exit 2) and 1 when it could not run or a check failed. When a target is missed (or
with ``--profile``) the export is run once more in this process under cProfile, through the
Flask test client, and the functions that took the time are printed (to stderr with --json).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import html
import http.cookiejar
import io
import json
import os
import pstats
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the service package

# The shared helpers of the benchmarks.
from event_page import LOOPBACK, PROJECT_ROOT, BenchError, app_env, free_port, get, log
from registration import (
    CSRF,
    DEFAULT_POSTGRES,
    Database,
    _NoRedirect,
    event_document,
    gunicorn_cmd_args,
    postgres_answers,
    postgres_url,
)

EVENT_SLUG = "export-bench"
EMAIL = "bench-organiser@example.org"
PASSWORD = secrets.token_urlsafe(18)
TIME_TARGET = 0.5  # at most twice the time of the bare driver + csv dump
MEMORY_CEILING_MB = 50.0
SAMPLE_SECONDS = 0.02
SERVER_START_TIMEOUT = 60.0
CLI_TIMEOUT = 300.0
EXPORT_TIMEOUT = 600
HEADER = [
    "name",
    "email",
    "organisation",
    "status",
    "registered_at",
    "language",
    "keep_informed",
    "keep_informed_at",
    "checked_in",
    "checked_in_at",
    "joined",
    "cancelled_at",
]
FIRST_NAMES = ["Ana", "Luis", "Evo", "María", "Juan", "Wara", "José", "Añez", "Sonia", "Ollie"]
LAST_NAMES = ["Quispe", "Mamani", "Choquehuanca", "Flores", "Condori", "Peña", "Vargas 🌹"]
ORGANISATIONS = ["", "", "", "Unite", "UCU", "Sindicato de Trabajadores Mineros", "NEU", "=1+1"]
REGISTERED_FROM = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
QUESTION = "Which union or organisation are you with, if any?"

_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TimeLimit(BenchError):
    """The whole run took longer than ``--timeout``."""


# --- Set-up ------------------------------------------------------------------------------------


def flask_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    command = [sys.executable, "-m", "flask", *args]
    try:
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"`flask {' '.join(args)}` took over {CLI_TIMEOUT:.0f} s") from error
    if done.returncode != 0:
        raise BenchError(
            f"`flask {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def fill(database_url: str, rows: int) -> dict[str, int]:
    """Registrations, join clicks, a question and its answers, inserted in bulk."""
    import sqlalchemy as sa

    from service.db import UTCDateTime
    from service.events.models import Event, Question, QuestionKind
    from service.registration.models import Answer, JoinClick, Registration, RegistrationStatus

    registrations = Registration.__table__
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            event_id = connection.execute(
                sa.select(Event.id).where(Event.slug == EVENT_SLUG)
            ).scalar_one()
            batch: list[dict[str, Any]] = []
            for n in range(rows):
                created = REGISTERED_FROM + timedelta(seconds=n * 7)
                if n % 20 == 0:
                    status = RegistrationStatus.CANCELLED
                elif n % 10 == 5:
                    status = RegistrationStatus.WAITING
                else:
                    status = RegistrationStatus.CONFIRMED
                batch.append(
                    {
                        "event_id": event_id,
                        "name": f"{FIRST_NAMES[n % 10]} {LAST_NAMES[n % 7]} {n}",
                        "email": f"attendee{n:06d}@example.org",
                        "organisation": ORGANISATIONS[n % len(ORGANISATIONS)],
                        "language": "es" if n % 3 == 0 else "en",
                        "status": status,
                        "keep_informed": n % 4 == 0,
                        "keep_informed_at": created if n % 4 == 0 else None,
                        "link_secret": secrets.token_hex(16),
                        "created_at": created,
                        "promoted_at": None,
                        "cancelled_at": created + timedelta(days=3)
                        if status is RegistrationStatus.CANCELLED
                        else None,
                        "checked_in_at": created + timedelta(days=30)
                        if status is RegistrationStatus.CONFIRMED and n % 3 == 0
                        else None,
                    }
                )
                if len(batch) == 5000:
                    connection.execute(sa.insert(registrations), batch)
                    batch = []
            if batch:
                connection.execute(sa.insert(registrations), batch)

            clicked = sa.literal(REGISTERED_FROM + timedelta(days=30), UTCDateTime())
            connection.execute(
                sa.insert(JoinClick.__table__).from_select(
                    ["registration_id", "clicked_at"],
                    sa.select(registrations.c.id, clicked).where(
                        registrations.c.event_id == event_id, registrations.c.id % 10 == 0
                    ),
                )
            )
            question_id = connection.execute(
                sa.insert(Question.__table__)
                .values(
                    event_id=event_id,
                    position=0,
                    kind=QuestionKind.SHORT_TEXT,
                    label=QUESTION,
                    label_es="¿De qué sindicato u organización vienes, si de alguno?",
                    choices=[],
                    required=False,
                )
                .returning(Question.__table__.c.id)
            ).scalar_one()
            value = sa.case(
                (registrations.c.id % 4 == 0, sa.literal("Unite")),
                (registrations.c.id % 4 == 1, sa.literal("Sindicato Minero de Huanuni")),
                (registrations.c.id % 4 == 2, sa.literal("")),
                else_=sa.literal("Friends of Bolivia, Leeds branch"),
            )
            connection.execute(
                sa.insert(Answer.__table__).from_select(
                    ["registration_id", "question_id", "value"],
                    sa.select(registrations.c.id, sa.literal(question_id), value).where(
                        registrations.c.event_id == event_id
                    ),
                )
            )
        with engine.connect() as connection:
            counts = {
                name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in (
                    ("registrations", registrations),
                    ("answers", Answer.__table__),
                    ("join_clicks", JoinClick.__table__),
                    ("questions", Question.__table__),
                )
            }
    finally:
        engine.dispose()
    counts["event_id"] = event_id
    counts["question_id"] = question_id
    return counts


def export_records(database_url: str) -> list[tuple[int, str, int]]:
    import sqlalchemy as sa

    from service.organisers.models import ExportRecord

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(
                    sa.select(ExportRecord.organiser_id, ExportRecord.via, ExportRecord.rows)
                )
            ]
    finally:
        engine.dispose()


# --- The server and its memory -----------------------------------------------------------------


class Server:
    """``gunicorn -w 1 -k sync`` serving ``wsgi:app`` on a free loopback port."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.log_path = logs / "gunicorn-export.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        for _attempt in range(3):  # the free port could be taken before gunicorn binds it
            self.port = free_port()
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    "1",
                    "-k",
                    "sync",
                    "--timeout",
                    str(EXPORT_TIMEOUT),
                    "--graceful-timeout",
                    "5",
                    "--bind",
                    f"{LOOPBACK}:{self.port}",
                    "--log-level",
                    "warning",
                    "wsgi:app",
                ],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._wait_ready():
                return
            self.stop()
        raise BenchError(f"the server did not start; its log:\n{self.log_tail()}")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                status, _body = get(self.base_url + "/organisers/login", timeout=2.0)
            except OSError:
                time.sleep(0.1)
                continue
            if status == 200:
                return True
            raise BenchError(f"GET /organisers/login answered {status}, not 200")
        return False

    def worker_pid(self) -> int:
        assert self.process is not None
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == self.process.pid:
                children.append(int(entry.name))
        if len(children) != 1:
            raise BenchError(f"expected one gunicorn worker, found {children}")
        return children[0]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # gunicorn's master stops its worker on SIGTERM
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group this script started
                process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def status_kb(pid: int | str, field_name: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise BenchError(f"no {field_name} in /proc/{pid}/status")


def reset_peak(pid: int | str) -> bool:
    """Set VmHWM back to the current RSS (Linux 4.0+), where this user may."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """The highest VmRSS of a process, read every 20 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
                self.samples += 1
            except (OSError, BenchError):
                return
            self._halt.wait(SAMPLE_SECONDS)

    def stop(self) -> int:
        self._halt.set()
        self.join(timeout=2)
        return self.peak_kb


# --- Our export, over HTTP ---------------------------------------------------------------------


@dataclass
class Measure:
    seconds: float
    growth_mb: float
    rss_before_mb: float
    peak_mb: float
    rows: int
    header: list[str]
    size: int
    first_byte_seconds: float | None = None
    samples: int = 0
    peak_source: str = ""


def log_in(base_url: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        _NoRedirect,
    )
    with opener.open(base_url + "/organisers/login", timeout=30) as page:
        token = CSRF.search(page.read().decode())
    if token is None:
        raise BenchError("GET /organisers/login: no csrf_token in the form")
    fields = {"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD}
    status = _post(opener, base_url + "/organisers/login", fields)
    if status != 302:
        raise BenchError(f"logging in answered {status}, not 302")
    return opener


def _post(opener: urllib.request.OpenerDirector, url: str, fields: Any) -> int:
    data = urllib.parse.urlencode(fields, doseq=True).encode()
    try:
        with opener.open(url, data=data, timeout=30) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as answer:
        answer.read()
        return answer.code


def count_csv(path: Path) -> tuple[list[str], int]:
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        return header, sum(1 for _row in reader)


COLUMN_BOX = re.compile(r'<input[^>]*name="columns"[^>]*value="([^"]*)"')


def offered_columns(page: str) -> list[str]:
    """Every column the attendee page's export form offers (all ticked, as it comes)."""
    return [html.unescape(value) for value in COLUMN_BOX.findall(page)]


def measure_ours(server: Server, tmp_path: Path) -> Measure:
    opener = log_in(server.base_url)
    attendees = f"{server.base_url}/organisers/events/{EVENT_SLUG}/attendees"
    with opener.open(attendees, timeout=120) as page:
        if page.status != 200:
            raise BenchError(f"GET {attendees} answered {page.status}")
        page_html = page.read().decode()
    token = CSRF.search(page_html)
    if token is None:
        raise BenchError("the attendee page has no export form")
    columns = offered_columns(page_html)
    missing = [name for name in HEADER if name not in columns]
    if missing:
        raise BenchError(f"the export form offers no {missing}")
    body = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "columns": columns}, doseq=True
    ).encode()

    pid = server.worker_pid()
    hwm_reset = reset_peak(pid)
    before_kb = status_kb(pid, "VmRSS")
    sampler = RssSampler(pid)
    sampler.start()
    target = tmp_path / "ours.csv"
    size = 0
    first_byte = None
    try:
        started = time.perf_counter()
        request = urllib.request.Request(
            f"{server.base_url}/organisers/events/{EVENT_SLUG}/export.csv", data=body
        )
        with opener.open(request, timeout=EXPORT_TIMEOUT) as answer, target.open("wb") as out:
            if answer.status != 200:
                raise BenchError(f"the export answered {answer.status}")
            while chunk := answer.read(65536):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                out.write(chunk)
                size += len(chunk)
        seconds = time.perf_counter() - started
    except urllib.error.HTTPError as error:
        raise BenchError(f"the export answered {error.code}:\n{error.read()[:500]!r}") from error
    finally:
        sampled_kb = sampler.stop()
    peak_kb, source = sampled_kb, f"VmRSS every {SAMPLE_SECONDS * 1000:.0f} ms"
    if hwm_reset:
        hwm_kb = status_kb(pid, "VmHWM")
        if hwm_kb > peak_kb:
            peak_kb, source = hwm_kb, "VmHWM (reset before)"
    header, rows = count_csv(target)
    return Measure(
        seconds=seconds,
        growth_mb=max(peak_kb - before_kb, 0) / 1024,
        rss_before_mb=before_kb / 1024,
        peak_mb=peak_kb / 1024,
        rows=rows,
        header=header,
        size=size,
        first_byte_seconds=first_byte,
        samples=sampler.samples,
        peak_source=source,
    )


# --- The baseline: driver + csv ----------------------------------------------------------------

BASELINE_SCRIPT = r"""
import csv, json, sys, time
from pathlib import Path

kind, target, database, event_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def kb(name):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])

HEADER = ["name", "email", "organisation", "status", "registered_at", "language",
          "keep_informed", "keep_informed_at", "checked_in", "checked_in_at", "joined",
          "cancelled_at"]
question_id = int(sys.argv[5])  # 0: the export has no answer column, so neither has this
if question_id:
    HEADER.append(sys.argv[6])
QUERY = (
    "SELECT r.name, r.email, r.organisation, r.status, r.created_at, r.language,"
    " r.keep_informed, r.keep_informed_at, r.checked_in_at IS NOT NULL, r.checked_in_at,"
    " EXISTS (SELECT 1 FROM join_clicks j WHERE j.registration_id = r.id), r.cancelled_at"
    + (", a.value" if question_id else "")
    + " FROM registrations r"
    + (f" LEFT JOIN answers a ON a.registration_id = r.id AND a.question_id = {question_id}"
       if question_id else "")
    + " WHERE r.event_id = {param} ORDER BY r.id"
)
if kind == "sqlite":
    import sqlite3
else:
    import psycopg
try:
    Path("/proc/self/clear_refs").write_text("5")
    reset = True
except OSError:
    reset = False
before = kb("VmRSS")
started = time.perf_counter()
if kind == "sqlite":
    connection = sqlite3.connect(database)
    cursor = connection.execute(QUERY.format(param="?"), (event_id,))
else:
    connection = psycopg.connect(database)
    cursor = connection.cursor(name="export")  # server-side, like ours
    cursor.itersize = 1000
    cursor.execute(QUERY.format(param="%s"), (event_id,))
rows = 0
with open(target, "w", encoding="utf-8", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in cursor:
        writer.writerow(row)
        rows += 1
connection.close()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": rows, "before_kb": before,
                  "peak_kb": kb("VmHWM"), "reset": reset}))
"""


def measure_baseline(
    kind: str,
    database_url: str,
    event_id: int,
    answer_column: tuple[int, str] | None,
    tmp_path: Path,
) -> Measure:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if kind == "sqlite":
        database = url.database or ""
    else:
        database = url.set(drivername="postgresql").render_as_string(hide_password=False)
    target = tmp_path / "baseline.csv"
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                BASELINE_SCRIPT,
                kind,
                str(target),
                database,
                str(event_id),
                *(map(str, answer_column) if answer_column else ["0", ""]),
            ],
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"the baseline took over {EXPORT_TIMEOUT} s") from error
    if done.returncode != 0:
        raise BenchError(f"the baseline failed ({done.returncode}):\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    header, rows = count_csv(target)
    return Measure(
        seconds=result["seconds"],
        growth_mb=max(result["peak_kb"] - result["before_kb"], 0) / 1024,
        rss_before_mb=result["before_kb"] / 1024,
        peak_mb=result["peak_kb"] / 1024,
        rows=rows,
        header=header,
        size=target.stat().st_size,
        peak_source="VmHWM (reset before)" if result["reset"] else "VmHWM",
    )


# --- Profile -----------------------------------------------------------------------------------


def profile_export(database_url: str, instance: Path, limit: int = 25) -> str:
    """The export once more, in this process through the test client, under cProfile."""
    for key in [key for key in os.environ if key.startswith(("CONVOCA_", "FLASK_"))]:
        del os.environ[key]
    os.environ.pop("DATABASE_URL", None)
    os.environ["CONVOCA_INSTANCE_PATH"] = str(instance)
    from service import create_app
    from service.extensions import db

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "PUBLIC_URL": "http://127.0.0.1",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    client = app.test_client()
    page = client.get("/organisers/login").get_data(as_text=True)
    token = CSRF.search(page)
    if token is None:
        raise BenchError("profile: no csrf_token on the login form")
    logged_in = client.post(
        "/organisers/login",
        data={"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD},
    )
    if logged_in.status_code != 302:
        raise BenchError(f"profile: logging in answered {logged_in.status_code}")
    page = client.get(f"/organisers/events/{EVENT_SLUG}/attendees").get_data(as_text=True)
    token = CSRF.search(page)  # a new session since the login, so a new token
    if token is None:
        raise BenchError("profile: no export form on the attendee page")
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.post(
        f"/organisers/events/{EVENT_SLUG}/export.csv",
        data={"csrf_token": token.group(1), "columns": offered_columns(page)},
        buffered=False,
    )
    with response:
        size = sum(len(chunk) for chunk in response.response)
    profiler.disable()
    if response.status_code != 200:
        raise BenchError(f"profile: the export answered {response.status_code}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"profile of one export in-process ({size:,} bytes), by own time:\n")
    stats.sort_stats("tottime").print_stats(limit)
    out.write("by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


# --- One database ------------------------------------------------------------------------------


@dataclass
class Phase:
    database: str
    ours: Measure | None = None
    baseline: Measure | None = None
    counts: dict[str, int] = field(default_factory=dict)
    records: list[tuple[int, str, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    profile: str = ""
    answer_column: tuple[int, str] | None = None

    @property
    def suffix(self) -> str:
        return "" if self.database == "sqlite" else f"_{self.database}"

    def rows(self) -> list[dict[str, Any]]:
        assert self.ours and self.baseline
        return [
            {
                "name": "export_time" + self.suffix,
                "value": round(self.ours.seconds, 3),
                "unit": "s",
                "baseline": round(self.baseline.seconds, 3),
                "ratio": round(self.baseline.seconds / self.ours.seconds, 3),
                "target": TIME_TARGET,
            },
            {
                "name": "export_memory_growth" + self.suffix,
                "value": round(self.ours.growth_mb, 1),
                "unit": "MB",
                "baseline": round(self.baseline.growth_mb, 1),
                # Growth below 0.1 MB is within page noise: counted as 0.1 so the ratio exists.
                "ratio": round(
                    max(self.baseline.growth_mb, 0.1) / max(self.ours.growth_mb, 0.1), 3
                ),
                "target": None,
            },
        ]

    @property
    def time_ok(self) -> bool:
        return bool(self.ours and self.baseline) and (
            self.baseline.seconds / self.ours.seconds >= TIME_TARGET  # type: ignore[union-attr]
        )

    @property
    def memory_ok(self) -> bool:
        return bool(self.ours) and self.ours.growth_mb < MEMORY_CEILING_MB  # type: ignore[union-attr]


def run_database(server_url: str | None, args: argparse.Namespace) -> Phase:
    phase = Phase("sqlite" if server_url is None else "postgresql")
    log(f"{phase.database}:")
    with tempfile.TemporaryDirectory(prefix="convoca-bench-export-") as tmp:
        tmp_path = Path(tmp)
        instance = tmp_path / "instance"
        instance.mkdir()
        database = Database(server_url, tmp_path)
        server: Server | None = None
        try:
            database_url, _unused = database.create()
            env = app_env(database_url, str(instance))
            env.update(
                CONVOCA_RATELIMIT_ENABLED="false",
                CONVOCA_SESSION_COOKIE_SECURE="false",
                GUNICORN_CMD_ARGS=gunicorn_cmd_args(),
            )
            flask_cli(["db", "upgrade"], env)
            event_file = tmp_path / "event.json"
            event_file.write_text(json.dumps(event_document() | {"slug": EVENT_SLUG}))
            flask_cli(["events", "import", str(event_file)], env)
            flask_cli(["organisers", "create", EMAIL, "--password-stdin"], env, PASSWORD + "\n")
            started = time.perf_counter()
            phase.counts = fill(database_url, args.rows)
            log(
                f"  inserted {phase.counts['registrations']:,} registrations, "
                f"{phase.counts['answers']:,} answers, {phase.counts['join_clicks']:,} join "
                f"clicks in {time.perf_counter() - started:.1f} s"
            )

            server = Server(env, tmp_path)
            server.start()
            phase.ours = measure_ours(server, tmp_path)
            log(
                f"  ours: {phase.ours.seconds:.2f} s, first byte after "
                f"{phase.ours.first_byte_seconds or 0:.3f} s, {phase.ours.size:,} bytes, worker "
                f"RSS {phase.ours.rss_before_mb:.1f} MB + {phase.ours.growth_mb:.1f} MB"
            )
            server.stop()
            phase.records = export_records(database_url)

            phase.answer_column = answer_column(phase.ours.header, phase.counts["question_id"])
            phase.baseline = measure_baseline(
                phase.database,
                database_url,
                phase.counts["event_id"],
                phase.answer_column,
                tmp_path,
            )
            log(
                f"  baseline: {phase.baseline.seconds:.2f} s, {phase.baseline.size:,} bytes, "
                f"RSS {phase.baseline.rss_before_mb:.1f} MB + {phase.baseline.growth_mb:.1f} MB"
            )
            phase.problems = verify(phase, args.rows)
            if args.profile or not (phase.time_ok and phase.memory_ok):
                log("  profiling one export in-process")
                phase.profile = profile_export(database_url, instance)
        except BenchError:
            if server is not None:
                log(f"  server log (last lines):\n{server.log_tail(15)}")
            raise
        finally:
            if server is not None:
                server.stop()
            database.drop()
    return phase


def answer_column(header: list[str], question_id: int) -> tuple[int, str] | None:
    """The question's column in our export, if it has one (``q<id>: label`` or the label)."""
    for name in header[len(HEADER) :]:
        if name.startswith(f"q{question_id}:") or QUESTION in name:
            return question_id, name
    return None


def verify(phase: Phase, rows: int) -> list[str]:
    problems = []
    assert phase.ours and phase.baseline
    if phase.ours.header[: len(HEADER)] != HEADER:
        problems.append(f"our header is {phase.ours.header}, not {HEADER} first")
    if len(phase.ours.header) != len(phase.baseline.header):
        problems.append(
            f"our header {phase.ours.header} has columns the baseline's "
            f"{phase.baseline.header} has not"
        )
    if phase.ours.rows != rows:
        problems.append(f"our CSV has {phase.ours.rows:,} data rows, not {rows:,}")
    if phase.baseline.rows != rows:
        problems.append(f"the baseline's CSV has {phase.baseline.rows:,} data rows, not {rows:,}")
    if [(via, count) for _who, via, count in phase.records] != [("web", rows)]:
        problems.append(f"export records {phase.records}, not one web export of {rows:,} rows")
    return problems


# --- Report ------------------------------------------------------------------------------------


def print_table(phases: list[Phase], args: argparse.Namespace, notes: list[str]) -> None:
    print(
        f"Attendee CSV export of {args.rows:,} registrations over HTTP (gunicorn -w 1 -k sync, "
        "every column) vs a driver + csv.writer dump of the same rows, same run"
    )
    print(
        "time: ratio = baseline ÷ ours (target ≥ 0.5: at most twice the dump's time); memory: "
        f"peak RSS growth, checked < {MEMORY_CEILING_MB:.0f} MB"
    )
    for phase in phases:
        assert phase.ours and phase.baseline
        print(f"\n{phase.database}:")
        c = phase.counts
        print(
            f"  data: {c['registrations']:,} registrations, {c['answers']:,} answers to "
            f"{c['questions']} question, {c['join_clicks']:,} join clicks"
        )
        header = (
            f"  {'run':<9} {'time':>8} {'first byte':>10} {'bytes':>12} {'rows':>8} "
            f"{'RSS before':>10} {'peak':>9} {'growth':>9}  peak from"
        )
        print(header)
        print("  " + "-" * (len(header) - 2))
        for label, result in (("ours", phase.ours), ("baseline", phase.baseline)):
            first = (
                f"{result.first_byte_seconds:.3f} s"
                if result.first_byte_seconds is not None
                else ""
            )
            source = result.peak_source + (f", {result.samples} samples" if result.samples else "")
            print(
                f"  {label:<9} {result.seconds:>6.2f} s {first:>10} {result.size:>12,} "
                f"{result.rows:>8,} {result.rss_before_mb:>7.1f} MB {result.peak_mb:>6.1f} MB "
                f"{result.growth_mb:>6.1f} MB  {source}"
            )
        if phase.answer_column:
            answers = f"yes, column {phase.answer_column[1]!r} (the baseline joins them too)"
        else:
            answers = (
                f"NO: the export has no answer column yet; {c['answers']:,} answers to "
                f"{QUESTION!r} are left out (and out of the baseline)"
            )
        print(f"  export record: {phase.records}; {len(phase.ours.header)} columns")
        print(f"  answers in the export: {answers}")
        for problem in phase.problems:
            print(f"  CHECK FAILED: {problem}")

    header = f"{'name':<32} {'value':>9} {'baseline':>13} {'ratio':>7} {'target':>6}"
    print(f"\n{header}")
    print("-" * len(header))
    for phase in phases:
        for row in phase.rows():
            if row["target"] is None:
                verdict = f"{'PASS' if phase.memory_ok else 'FAIL'} (< {MEMORY_CEILING_MB:.0f} MB)"
                target = "report"
            else:
                verdict = "ok" if row["ratio"] >= row["target"] else "BELOW TARGET"
                target = f"{row['target']:.2f}"
            print(
                f"{row['name']:<32} {row['value']:>9,.3f} {row['baseline']:>9,.3f} "
                f"{row['unit']:<3} {row['ratio']:>7.3f} {target:>6}  {verdict}"
            )
    for phase in phases:
        if phase.profile:
            print(f"\n{phase.database}: {phase.profile}")
    if any(phase.answer_column is None for phase in phases):
        print(
            "\nnote: the export has no column for custom questions' answers yet; the answers "
            "are in the database so that the tables are the size they will be."
        )
    for note in notes:
        print(f"\nnote: {note}")


# --- Main --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[list[Phase], list[str]]:
    notes = []
    servers: list[str | None] = [None]
    if args.database_url:
        servers.append(postgres_url(args.database_url))
    elif not args.sqlite_only:
        if postgres_answers(DEFAULT_POSTGRES):
            servers.append(DEFAULT_POSTGRES)
        else:
            notes.append(
                f"no PostgreSQL at {DEFAULT_POSTGRES}: only SQLite was measured "
                "(give --database-url, or --sqlite-only to skip it quietly)"
            )
            log(f"warning: {notes[-1]}")
    return [run_database(server, args) for server in servers], notes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON, last line")
    parser.add_argument(
        "--rows", type=int, default=100_000, help="registrations to export (default 100000)"
    )
    databases = parser.add_mutually_exclusive_group()
    databases.add_argument(
        "--database-url",
        help=f"the PostgreSQL server to create (and drop) a throwaway database on "
        f"(default {DEFAULT_POSTGRES})",
    )
    databases.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--profile", action="store_true", help="profile one export even when targets are met"
    )
    parser.add_argument(
        "--timeout", type=int, default=900, help="give up after this many seconds (default 900)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 if the time ratio is below target or the growth reaches "
        f"{MEMORY_CEILING_MB:.0f} MB",
    )
    args = parser.parse_args(argv)
    if args.database_url and not postgres_url(args.database_url).startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL server's URL")
    if args.rows < 1 or args.timeout < 1:
        parser.error("--rows and --timeout must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally that stops the server

    def out_of_time(_signum: int, _frame: object) -> None:
        raise TimeLimit(f"the run took over {args.timeout} s (--timeout)")

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.timeout)
    try:
        phases, notes = run(args)
    except BenchError as error:
        log(f"bench/export.py: {error}")
        return 1
    finally:
        signal.alarm(0)
    problems = [f"{phase.database}: {problem}" for phase in phases for problem in phase.problems]
    rows = [row for phase in phases for row in phase.rows()]
    if args.json:
        for phase in phases:
            if phase.profile:
                log(f"{phase.database}: {phase.profile}")
        for problem in problems:
            log(f"bench/export.py: {problem}")
        print(json.dumps(rows))
    else:
        print_table(phases, args, notes)
    if problems:
        return 1
    missed = any(not (phase.time_ok and phase.memory_ok) for phase in phases)
    return 2 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())

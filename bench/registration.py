"""Load benchmark of registering for an event, and of the event page, against naive and bare
Flask apps measured in the same run, on SQLite and then on PostgreSQL.

    .venv/bin/python bench/registration.py [--duration 10] [--warmup 2] [--json] [--strict]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres | --sqlite-only]

Set-up, once per database: a temporary instance directory and either a temporary SQLite file or
a throwaway database ``convoca_bench_<random>`` created on the PostgreSQL server of
``--database-url`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; skipped,
with a warning, when that default server does not answer) and dropped at the end. ``flask db
upgrade``, then ``flask events import`` of one published online event starting in 2031 with no
capacity limit, so registration is open. Three servers on free loopback ports, each ``gunicorn
-w 2 -k sync`` with the app's default settings but rate limiting off and a session cookie that
is not Secure (plain HTTP): ours (``wsgi:app``), the bare "hello" app (``bench/bare_app.py``)
and a naive Flask-SQLAlchemy app (``bench/registration_naive_app.py``) whose one POST route
inserts one row (name, email) and commits. On SQLite the naive app gets exactly the settings
our app's connections report (journal mode, synchronous, busy timeout…), read from our app
first; the report shows them.

Load: ``wrk -t2 -c8 -d<duration>s --latency``. Registrations are posted by
``bench/registration_post.lua``: each wrk thread first GETs the form for its CSRF token and
session cookie, then every request POSTs a valid registration with a fresh email address; a 302
is a success, any other status an error. The naive app gets the same POST bodies. Every URL is
warmed up, then measured one after another (never two at once: wrk and the servers share the
cores): bare, event page, bare, naive, registration, naive. Each row is a ratio to the mean of
its baseline measured just before and just after it (``registration``: ours ÷ naive insert, in
302s per second; ``event_page``: ours ÷ bare route, in requests per second; above 1 is better).
The table also shows p50/p99 latency, errors and the CPU time the server's processes spent per
request (from /proc), which hardly moves with outside load.

Checks after each database: every 302 has its row in ``registrations`` (rows = 302s, plus at
most the requests still in flight when wrk stopped, which the server completes without wrk
counting the answer), all distinct and confirmed; the capacity is unlimited, so overbooking
cannot happen. The same row check is made for the naive app.

With ``--json`` the last line printed is a JSON list of rows
``{"name", "value", "unit", "baseline", "ratio", "target"}``: ``registration`` and
``event_page``, and ``registration_postgresql`` and ``event_page_postgresql``. The exit status
is 0 when the measurement ran (whatever the ratios; ``--strict`` makes a ratio below target or
any error response exit 2) and 1 when it could not run or a check failed.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The shared helpers of the load benchmarks.
from event_page import (
    BENCH_DIR,
    PROJECT_ROOT,
    WORKERS,
    WRK_CONNECTIONS,
    WRK_THREADS,
    BenchError,
    Server,
    app_env,
    flask_cli,
    get,
    log,
)

EVENT_SLUG = "registration-bench"
EVENT_PATH = f"/events/{EVENT_SLUG}"
FORM_PATH = f"/events/{EVENT_SLUG}/register"
NAIVE_PATH = "/register"
LUA_SCRIPT = BENCH_DIR / "registration_post.lua"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGETS = {"registration": 0.9, "event_page": 0.5}
DRIFT_WARNING = 0.15  # a baseline moving by more than this around a row: noisy run
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
# What a SQLite connection runs with; the naive app is given our app's values of each.
SQLITE_SETTINGS = (
    "journal_mode",
    "synchronous",
    "busy_timeout",
    "foreign_keys",
    "cache_size",
    "temp_store",
    "mmap_size",
    "wal_autocheckpoint",
    "locking_mode",
)
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
OURS_SETTINGS_SCRIPT = f"""
import json
from sqlalchemy import text
from service import create_app
from service.extensions import db
app = create_app()
with app.app_context():
    print(json.dumps({{name: db.session.execute(text(f"PRAGMA {{name}}")).scalar()
                      for name in {SQLITE_SETTINGS!r}}}))
"""

_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TimeLimit(BenchError):
    """The whole run took longer than ``--timeout``."""


# --- wrk ---------------------------------------------------------------------------------------


@dataclass
class Load:
    """One wrk run. For POST runs (the Lua script) ``ok`` counts the 302s and ``statuses`` every
    other answer; for GET runs ``statuses`` holds wrk's own count of non-2xx/3xx answers."""

    label: str
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    socket_errors: int
    statuses: dict[str, int]
    ok: int | None = None
    posts: int = 0
    server_cpu_ms: float | None = None

    @property
    def rate(self) -> float:
        """302s per second for POST runs, wrk's requests per second for GET runs."""
        if self.ok is None:
            return self.requests_per_second
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) + self.socket_errors

    @property
    def answered(self) -> int:
        return self.requests if self.ok is None else self.ok + sum(self.statuses.values())

    @property
    def error_ratio(self) -> float:
        return self.errors / max(self.answered + self.socket_errors, 1)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _percentile(output: str, percent: int) -> float | None:
    found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    return float(found.group(1)) * _UNITS_MS[found.group(2)] if found else None


def run_wrk(
    wrk: str, label: str, url: str, duration: int, script_args: list[str] | None = None
) -> Load:
    """wrk on ``url``; with ``script_args`` (mode, run id, path) through the POST script."""
    command = [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", "--latency"]
    if script_args is not None:
        command += ["-s", str(LUA_SCRIPT), url, "--", *script_args]
    else:
        command.append(url)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 30, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"wrk on {url} did not finish in {duration + 30} s") from error
    output = done.stdout + done.stderr
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if done.returncode != 0 or rate is None or total is None:
        raise BenchError(f"wrk on {url} failed ({done.returncode}):\n{output}")
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    load = Load(
        label=label,
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS_MS[total.group(3)] / 1000,
        requests_per_second=float(rate.group(1)),
        p50_ms=_percentile(output, 50),
        p99_ms=_percentile(output, 99),
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        statuses={},
    )
    if script_args is None:
        non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
        if non_2xx:
            load.statuses["non-2xx/3xx"] = int(non_2xx.group(1))
        return load
    counts = re.search(r"registration-lua ok=(\d+) forms=(\d+) posts=(\d+) errors=(\S*)", output)
    if counts is None:
        raise BenchError(f"wrk on {url}: no counts from {LUA_SCRIPT.name}:\n{output}")
    load.ok, load.posts = int(counts.group(1)), int(counts.group(3))
    for item in filter(None, counts.group(4).split(",")):
        status, count = item.split(":")
        load.statuses[status] = int(count)
    if int(counts.group(2)) == 0 and script_args[0] == "form":
        raise BenchError(f"wrk on {url}: no thread got the form's CSRF token:\n{output}")
    return load


def measure(
    wrk: str, label: str, server: Server, path: str, duration: int, mode: str | None, run_id: str
) -> Load:
    """wrk on one URL, and the CPU the server spent per request meanwhile.

    Requests/sec moves with whatever else runs on the machine; CPU per request hardly does,
    so it says where a slow ratio comes from when the run is noisy.
    """
    cpu_before = server.cpu_seconds()
    script_args = None if mode is None else [mode, run_id, path]
    load = run_wrk(wrk, label, server.base_url + path, duration, script_args)
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None and load.requests:
        load.server_cpu_ms = (cpu_after - cpu_before) * 1000 / load.requests
    unit = "302s/s" if load.ok is not None else "req/s"
    log(
        f"  {label:<13} {server.base_url}{path}: {load.rate:,.1f} {unit}, p50 "
        f"{_ms(load.p50_ms)}, p99 {_ms(load.p99_ms)}, {load.errors} errors, "
        f"{_ms(load.server_cpu_ms)} server CPU/req"
    )
    return load


# --- The databases -----------------------------------------------------------------------------


def postgres_url(url: str) -> str:
    """The psycopg 3 driver for the common ``postgres://`` spellings, as our app does."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def postgres_answers(url: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            return True
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


class Database:
    """A temporary SQLite file, or a throwaway database on a PostgreSQL server."""

    def __init__(self, server_url: str | None, tmp_path: Path) -> None:
        self.server_url = server_url
        self.tmp_path = tmp_path
        self.name: str | None = None

    @property
    def kind(self) -> str:
        return "sqlite" if self.server_url is None else "postgresql"

    def create(self) -> tuple[str, str]:
        """(our database URL, the naive app's)."""
        if self.server_url is None:
            return (
                f"sqlite:///{self.tmp_path / 'convoca.sqlite'}",
                f"sqlite:///{self.tmp_path / 'naive.sqlite'}",
            )
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        name = f"convoca_bench_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            self.name = name
        except sa.exc.SQLAlchemyError as error:
            raise BenchError(f"cannot create a database: {str(error).splitlines()[0]}") from error
        finally:
            engine.dispose()
        url = make_url(self.server_url).set(database=name).render_as_string(hide_password=False)
        return url, url  # the naive app's table lives beside ours

    def drop(self) -> None:
        if self.name is None:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.name = None
        except sa.exc.SQLAlchemyError as error:
            log(f"warning: could not drop database {self.name}: {str(error).splitlines()[0]}")
        finally:
            engine.dispose()


def count_rows(database_url: str) -> dict[str, Any]:
    """What the registration table holds after the run, and the event's capacity."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows, emails, confirmed, waiting = connection.execute(
                sa.text(
                    "SELECT count(*), count(DISTINCT email),"
                    " coalesce(sum(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), 0),"
                    " coalesce(sum(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END), 0)"
                    " FROM registrations"
                )
            ).one()
            capacity = connection.execute(
                sa.text("SELECT capacity FROM events WHERE slug = :slug"), {"slug": EVENT_SLUG}
            ).scalar_one()
            outbox = connection.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
    finally:
        engine.dispose()
    return {
        "rows": rows,
        "emails": emails,
        "confirmed": confirmed,
        "waiting": waiting,
        "capacity": capacity,
        "outbox": outbox,
    }


def count_naive_rows(database_url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT count(*) FROM naive_registrations")
            ).scalar_one()
    finally:
        engine.dispose()


def event_document() -> dict[str, Any]:
    """One published online event in 2031 with no capacity limit: registration is open."""
    return {
        "slug": EVENT_SLUG,
        "title": "Solidarity meeting",
        "title_es": "Reunión de solidaridad",
        "summary": "Speakers from La Paz on the struggle",
        "summary_es": "Ponentes desde La Paz sobre la lucha",
        "description": "We meet to **organise**.",
        "description_es": "Nos reunimos para **organizarnos**.",
        "starts_at": "2031-05-12T18:30:00+01:00",
        "ends_at": "2031-05-12T20:00:00+01:00",
        "timezone": "Europe/London",
        "extra_timezones": ["America/La_Paz"],
        "format": "online",
        "join_url": "https://meet.example.org/bench-room-4821",
        "capacity": None,
        "status": "published",
        "organised_by": "Friends of Bolivia",
        "supporters": ["Labour Friends of Progressive Latin America"],
        "people": [
            {
                "name": "Ollie Vargas",
                "role": "speaker",
                "affiliation": "Journalist",
                "email": "ollie@example.org",
            },
            {
                "name": "Christine Blower",
                "role": "chair",
                "affiliation": "LFPLA",
                "email": "christine@example.org",
            },
        ],
    }


# --- Servers and checks ------------------------------------------------------------------------


def gunicorn_cmd_args() -> str:
    """No control socket: gunicorn 25+ opens one at ``~/.gunicorn/gunicorn.ctl``, the same
    path for every server, so the servers here (and any other gunicorn on the machine) would
    replace, then delete, each other's (as tests/server.py)."""
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return ""
    names = {setting.name for setting in KNOWN_SETTINGS}
    return "--no-control-socket" if "control_socket_disable" in names else ""


def python_in(cwd: Path, code: str, env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"{what} took over 120 s") from error
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_once(base_url: str, path: str, with_form: bool) -> None:
    """One registration as a browser sends it, before any load: it must answer 302."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        _NoRedirect,
    )
    fields = {
        "name": "Check Person",
        "email": f"check-{uuid.uuid4().hex[:12]}@example.org",
        "organisation": "",
        "website": "",
    }
    if with_form:
        with opener.open(base_url + path, timeout=10) as page:
            token = CSRF.search(page.read().decode())
        if token is None:
            raise BenchError(f"GET {path}: no csrf_token in the form")
        fields["csrf_token"] = token.group(1)
    try:
        with opener.open(
            base_url + path, data=urllib.parse.urlencode(fields).encode(), timeout=10
        ) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as answer:
        status, body = answer.code, answer.read()
    if status != 302:
        text = body.decode(errors="replace")[:600]
        raise BenchError(f"POST {base_url}{path} answered {status}, not 302:\n{text}")


def check_get(server: Server, path: str) -> int:
    status, body = get(server.base_url + path)
    if status != 200 or not body:
        raise BenchError(f"{server.label}: GET {path} answered {status} ({len(body)} bytes)")
    return len(body)


# --- One database ------------------------------------------------------------------------------


@dataclass
class Phase:
    database: str  # "sqlite" or "postgresql"
    loads: list[Load] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    naive_settings: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    around: dict[str, tuple[float, float]] = field(default_factory=dict)
    cpu: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    errors: dict[str, tuple[int, float]] = field(default_factory=dict)
    measured: dict[str, int] = field(default_factory=dict)  # row name: index in loads


def run_database(wrk: str, server_url: str | None, args: argparse.Namespace) -> Phase:
    phase = Phase("sqlite" if server_url is None else "postgresql")
    log(f"{phase.database}:")
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="convoca-bench-") as tmp:
        tmp_path = Path(tmp)
        instance = tmp_path / "instance"
        instance.mkdir()
        database = Database(server_url, tmp_path)
        try:
            ours_url, naive_url = database.create()
            env = app_env(ours_url, str(instance))
            env.update(
                CONVOCA_RATELIMIT_ENABLED="false",
                CONVOCA_SESSION_COOKIE_SECURE="false",
                GUNICORN_CMD_ARGS=gunicorn_cmd_args(),
            )
            flask_cli(["db", "upgrade"], env)
            event_file = tmp_path / "event.json"
            event_file.write_text(json.dumps(event_document()))
            flask_cli(["events", "import", str(event_file)], env)

            naive_env = dict(env, BENCH_NAIVE_DATABASE_URL=naive_url)
            if phase.database == "sqlite":
                phase.settings = json.loads(
                    python_in(
                        PROJECT_ROOT, OURS_SETTINGS_SCRIPT, env, "reading our SQLite settings"
                    )
                    .strip()
                    .splitlines()[-1]
                )
                naive_env["BENCH_NAIVE_SQLITE_PRAGMAS"] = json.dumps(phase.settings)
            python_in(
                BENCH_DIR,
                "import registration_naive_app as naive; naive.create_table()",
                naive_env,
                "creating the naive app's table",
            )
            preflight = _serve_and_measure(wrk, args, phase, env, naive_env, tmp_path, run_id)

            ours_ok = preflight + sum(load.ok or 0 for load in phase.loads if load.label == "ours")
            ours_sent = preflight + sum(load.posts for load in phase.loads if load.label == "ours")
            naive_ok = preflight + sum(
                load.ok or 0 for load in phase.loads if load.label == "naive"
            )
            naive_sent = preflight + sum(
                load.posts for load in phase.loads if load.label == "naive"
            )
            phase.checks = count_rows(ours_url)
            phase.checks.update(
                ours_302=ours_ok,
                ours_sent=ours_sent,
                naive_rows=count_naive_rows(naive_url),
                naive_302=naive_ok,
                naive_sent=naive_sent,
            )
        finally:
            database.drop()
    _make_rows(phase)
    return phase


def _serve_and_measure(
    wrk: str,
    args: argparse.Namespace,
    phase: Phase,
    env: dict[str, str],
    naive_env: dict[str, str],
    tmp_path: Path,
    run_id: str,
) -> int:
    """Start the three servers, check them, warm up, measure; returns the check POSTs made per
    app (each left a row)."""
    bare = Server("bare", "bare_app:app", BENCH_DIR, env, tmp_path)
    naive = Server("naive", "registration_naive_app:app", BENCH_DIR, naive_env, tmp_path)
    ours = Server("ours", "wsgi:app", PROJECT_ROOT, env, tmp_path)
    try:
        for server, ready in ((bare, "/"), (naive, "/"), (ours, EVENT_PATH)):
            server.start(ready)
        phase.sizes = {
            "/": check_get(bare, "/"),
            EVENT_PATH: check_get(ours, EVENT_PATH),
            FORM_PATH: check_get(ours, FORM_PATH),
        }
        if phase.database == "sqlite":
            status, body = get(naive.base_url + "/settings")
            phase.naive_settings = json.loads(body) if status == 200 else {}
            if phase.naive_settings != phase.settings:
                raise BenchError(
                    f"the naive app's SQLite settings {phase.naive_settings} are not ours "
                    f"{phase.settings}"
                )
        post_once(ours.base_url, FORM_PATH, with_form=True)
        post_once(naive.base_url, NAIVE_PATH, with_form=False)

        plan = [  # (label, row, server, path, Lua mode)
            ("bare", None, bare, "/", None),
            ("ours", "event_page", ours, EVENT_PATH, None),
            ("bare", None, bare, "/", None),
            ("naive", None, naive, NAIVE_PATH, "plain"),
            ("ours", "registration", ours, FORM_PATH, "form"),
            ("naive", None, naive, NAIVE_PATH, "plain"),
        ]
        if args.warmup > 0:
            log(f"  warming up, {args.warmup} s per URL")
            seen = set()
            for label, _row, server, path, mode in plan:
                if (label, path) not in seen:
                    seen.add((label, path))
                    load = run_wrk(
                        wrk,
                        label,
                        server.base_url + path,
                        args.warmup,
                        None if mode is None else [mode, f"w{run_id}", path],
                    )
                    phase.loads.append(load)  # their registrations count in the row checks
        log(f"  measuring, {args.duration} s per URL, each row between two of its baselines")
        for label, row, server, path, mode in plan:
            load = measure(wrk, label, server, path, args.duration, mode, f"m{run_id}")
            phase.loads.append(load)
            if row is not None:
                phase.measured[row] = len(phase.loads) - 1
    except BenchError:
        for server in (ours, naive):
            log(f"  {server.label} server log (last lines):\n{server.log_tail(15)}")
        raise
    finally:
        ours.stop()
        naive.stop()
        bare.stop()
    return 1


def _make_rows(phase: Phase) -> None:
    suffix = "" if phase.database == "sqlite" else f"_{phase.database}"
    for name, index in phase.measured.items():
        load = phase.loads[index]
        before, after = phase.loads[index - 1], phase.loads[index + 1]
        baseline = (before.rate + after.rate) / 2
        phase.around[name] = (before.rate, after.rate)
        phase.cpu[name] = (load.server_cpu_ms, _mean([before.server_cpu_ms, after.server_cpu_ms]))
        phase.errors[name] = (load.errors, load.error_ratio)
        phase.rows.append(
            {
                "name": name + suffix,
                "value": round(load.rate, 1),
                "unit": "302s/s" if load.ok is not None else "req/s",
                "baseline": round(baseline, 1),
                "ratio": round(load.rate / baseline, 3) if baseline else 0.0,
                "target": TARGETS[name],
            }
        )


def verify(phase: Phase) -> list[str]:
    """What is wrong with the database after the run (empty: all good)."""
    c = phase.checks
    problems = []
    if not c["ours_302"] <= c["rows"] <= c["ours_sent"]:
        problems.append(
            f"{c['rows']} rows in registrations for {c['ours_302']} answers 302 "
            f"({c['ours_sent']} POSTs sent)"
        )
    if c["emails"] != c["rows"]:
        problems.append(f"{c['rows']} registrations but {c['emails']} distinct emails")
    if c["confirmed"] != c["rows"] or c["waiting"]:
        problems.append(
            f"{c['confirmed']} confirmed and {c['waiting']} waiting of {c['rows']} registrations "
            "for an event with no capacity limit"
        )
    if c["capacity"] is not None and c["confirmed"] > c["capacity"]:
        problems.append(f"overbooked: {c['confirmed']} confirmed for {c['capacity']} places")
    if not c["naive_302"] <= c["naive_rows"] <= c["naive_sent"]:
        problems.append(
            f"naive app: {c['naive_rows']} rows for {c['naive_302']} answers 302 "
            f"({c['naive_sent']} POSTs sent)"
        )
    return problems


# --- Report ------------------------------------------------------------------------------------


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"


def _settings_text(settings: dict[str, Any]) -> str:
    shown = dict(settings)
    if isinstance(shown.get("synchronous"), int):
        shown["synchronous"] = f"{shown['synchronous']} ({SYNCHRONOUS.get(shown['synchronous'])})"
    return ", ".join(f"{name}={value}" for name, value in shown.items())


def print_table(phases: list[Phase], args: argparse.Namespace, notes: list[str]) -> None:
    print(
        f"Registration (POST, fresh email, CSRF) and event page under load, gunicorn -w {WORKERS}"
        f" -k sync, wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{args.duration}s --latency"
    )
    print(
        "registration: ours ÷ naive Flask-SQLAlchemy insert + commit (302s/s); "
        "event_page: ours ÷ bare Flask 'hello' (req/s)"
    )
    print("baseline = mean of the baseline measured just before and just after each row")
    for phase in phases:
        print(f"\n{phase.database}:")
        if phase.settings:
            print(f"  SQLite settings, ours and naive alike: {_settings_text(phase.settings)}")
        header = (
            f"  {'run':<6} {'path':<37} {'bytes':>5} {'rate':>9} {'unit':<6} {'p50':>9} {'p99':>9} "
            f"{'answers':>8} {'errors':>13} {'CPU/req':>9}"
        )
        print(header)
        print("  " + "-" * (len(header) - 2))
        measured = phase.loads[-6:]  # the measured runs (the warm-ups come first)
        paths = ["/", EVENT_PATH, "/", NAIVE_PATH, FORM_PATH, NAIVE_PATH]
        for load, path in zip(measured, paths, strict=True):
            unit = "302s/s" if load.ok is not None else "req/s"
            size = phase.sizes.get(path, "") if load.ok is None else ""
            errors = f"{load.errors} ({load.error_ratio:.1%})"
            print(
                f"  {load.label:<6} {path:<37} {size:>5} {load.rate:>9,.1f} {unit:<6} "
                f"{_ms(load.p50_ms):>9} {_ms(load.p99_ms):>9} {load.answered:>8} "
                f"{errors:>13} {_ms(load.server_cpu_ms):>9}"
            )
            if load.statuses:
                expected = "302" if load.ok is not None else "2xx/3xx"
                print(f"  {'':<6} answers other than {expected}: {load.statuses}")
        c = phase.checks
        print(
            f"  rows: {c['rows']:,} registrations for {c['ours_302']:,} answers 302 (warm-up and "
            f"one check included; {c['rows'] - c['ours_302']} more were in flight when wrk "
            f"stopped), {c['emails']:,} distinct emails, {c['confirmed']:,} confirmed, "
            f"{c['waiting']} waiting, {c['outbox']:,} messages queued; naive app: "
            f"{c['naive_rows']:,} rows for {c['naive_302']:,} answers 302"
        )
        print(
            "  overbooking: none possible, capacity "
            + ("unlimited" if c["capacity"] is None else str(c["capacity"]))
        )

    header = (
        f"{'name':<24} {'value':>9} {'baseline':>16} {'ratio':>6} {'target':>6} "
        f"{'errors':>13} {'CPU/req ours/baseline':>22}"
    )
    print(f"\n{header}")
    print("-" * len(header))
    noisy = []
    for phase in phases:
        for row in phase.rows:
            name = row["name"].removesuffix(f"_{phase.database}")
            before, after = phase.around[name]
            if max(before, after) and abs(before - after) / max(before, after) > DRIFT_WARNING:
                noisy.append(f"{row['name']} (baseline {before:,.0f} then {after:,.0f})")
            count, ratio = phase.errors[name]
            ours_cpu, base_cpu = phase.cpu[name]
            verdict = "ok" if row["ratio"] >= row["target"] else "BELOW TARGET"
            print(
                f"{row['name']:<24} {row['value']:>9,.1f} {row['baseline']:>9,.1f} "
                f"{row['unit']:<6} {row['ratio']:>6.3f} {row['target']:>6.2f} "
                f"{f'{count} ({ratio:.1%})':>13} {f'{_ms(ours_cpu)} / {_ms(base_cpu)}':>22}  "
                f"{verdict}"
            )
    print(
        "\nCPU/req: CPU time of the server's processes per request, steadier than the rates "
        "when the machine is shared."
    )
    if noisy:
        print(
            f"\nwarning: a baseline moved by over {DRIFT_WARNING:.0%} around "
            f"{', '.join(noisy)}: something else was using the CPU; these ratios are noisy."
        )
    for note in notes:
        print(f"\nnote: {note}")


# --- Main --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[list[Phase], list[str]]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed: apt-get install -y wrk")
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
    phases = [run_database(wrk, server, args) for server in servers]
    return phases, notes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON, last line")
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of wrk per URL (default 10)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of wrk per URL before measuring (default 2)"
    )
    databases = parser.add_mutually_exclusive_group()
    databases.add_argument(
        "--database-url",
        help=f"the PostgreSQL server to create (and drop) a throwaway database on "
        f"(default {DEFAULT_POSTGRES})",
    )
    databases.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--timeout", type=int, default=900, help="give up after this many seconds (default 900)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 if a ratio is below target or any request failed",
    )
    args = parser.parse_args(argv)
    if args.database_url and not postgres_url(args.database_url).startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL server's URL")
    if args.duration < 1 or args.warmup < 0 or args.timeout < 1:
        parser.error("--duration and --timeout must be at least 1 and --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally that stops the servers

    def out_of_time(_signum: int, _frame: object) -> None:
        raise TimeLimit(f"the run took over {args.timeout} s (--timeout)")

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.timeout)
    try:
        phases, notes = run(args)
    except BenchError as error:
        log(f"bench/registration.py: {error}")
        return 1
    finally:
        signal.alarm(0)
    problems = [f"{phase.database}: {problem}" for phase in phases for problem in verify(phase)]
    if args.json:
        for problem in problems:
            log(f"bench/registration.py: {problem}")
        print(json.dumps([row for phase in phases for row in phase.rows]))
    else:
        print_table(phases, args, notes)
        for problem in problems:
            print(f"\nCHECK FAILED: {problem}")
    if problems:
        return 1
    rows = [row for phase in phases for row in phase.rows]
    below = any(row["ratio"] < row["target"] for row in rows)
    failed = any(count for phase in phases for count, _ratio in phase.errors.values())
    return 2 if args.strict and (below or failed) else 0


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark scenario shares: throwaway databases, the app root's Flask CLI,
gunicorn servers, wrk runs, process CPU times and the report. See docs/bench.md."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WRK_THREADS, WRK_CONNECTIONS = 2, 8
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only


class BenchError(RuntimeError):
    """The benchmark could not run, or a check failed; the message says why."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """(status, body) of ``url``, redirects followed."""
    try:
        with _HTTP.open(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


# --- Command line and report ------------------------------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    """The options every scenario takes; a scenario adds its own."""
    found = argparse.ArgumentParser(description=description)
    found.add_argument("--db", choices=("sqlite", "postgresql", "all"), default="all")
    found.add_argument("--duration", type=int, default=10, help="seconds of wrk per URL")
    found.add_argument("--warmup", type=int, default=2, help="seconds of wrk per URL first")
    found.add_argument("--json", action="store_true", help="end with the rows as a JSON line")
    found.add_argument("--strict", action="store_true", help="exit 2 if a ratio misses target")
    found.add_argument(
        "--app-root", type=Path, default=BENCH_DIR.parent, help="the checkout to measure"
    )
    found.add_argument("--postgres", default=POSTGRES, help="server for throwaway databases")
    return found


@dataclass
class Row:
    """One figure. ``ratio`` above 1 is better than the baseline."""

    name: str
    value: float
    unit: str
    baseline: float
    ratio: float
    target: float | None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "unit": self.unit,
            "baseline": round(self.baseline, 3),
            "ratio": round(self.ratio, 3),
            "target": self.target,
        }

    @property
    def missed(self) -> bool:
        return self.target is not None and self.ratio < self.target


def throughput(name: str, value: float, baseline: float, unit: str, target: float | None) -> Row:
    return Row(name, value, unit, baseline, value / baseline if baseline else 0.0, target)


def duration_row(name: str, value: float, baseline: float, unit: str, target: float | None) -> Row:
    """A time or a size: less is better, so ratio = baseline ÷ ours."""
    return Row(name, value, unit, baseline, baseline / value if value else 0.0, target)


def print_report(title: str, rows: list[Row], notes: list[str]) -> None:
    print(f"\n{title}")
    header = f"{'name':<40} {'value':>11} {'unit':<7} {'baseline':>11} {'ratio':>7} {'target':>6}"
    print(header + "\n" + "-" * len(header))
    for row in rows:
        target = "-" if row.target is None else f"{row.target:.2f}"
        verdict = "" if row.target is None else ("BELOW TARGET" if row.missed else "ok")
        print(
            f"{row.name:<40} {row.value:>11,.2f} {row.unit:<7} {row.baseline:>11,.2f} "
            f"{row.ratio:>7.3f} {target:>6}  {verdict} {row.note}".rstrip()
        )
    for note in notes:
        print(f"  {note}")


def main(
    scenario: Callable[[argparse.Namespace, Database], tuple[list[Row], list[str]]],
    args: argparse.Namespace,
    title: str,
) -> int:
    """Run ``scenario`` once per database asked for; print the table (and JSON); exit status
    0 measured, 1 could not run or a check failed, 2 with ``--strict`` when a target is missed."""

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally blocks that clean up

    signal.signal(signal.SIGTERM, terminated)
    args.app_root = args.app_root.resolve()
    rows: list[Row] = []
    try:
        App(args.app_root).check()
        for kind in ("sqlite", "postgresql") if args.db == "all" else (args.db,):
            log(f"{kind}:")
            with Database(kind, args.postgres) as database:
                found, notes = scenario(args, database)
            print_report(f"{title}, {kind} ({App(args.app_root).describe()})", found, notes)
            rows += found
    except BenchError as error:
        log(f"{Path(sys.argv[0]).name}: {error}")
        return 1
    if args.json:
        print(json.dumps([row.as_json() for row in rows]))
    return 2 if args.strict and any(row.missed for row in rows) else 0


# --- The databases and the app ----------------------------------------------------------------


class Database:
    """A SQLite file in a temporary directory, or ``bench_<random>`` on a PostgreSQL server,
    dropped at the end. ``tmp`` is the run's temporary directory either way."""

    def __init__(self, kind: str, server: str = POSTGRES) -> None:
        self.kind, self.server, self.name = kind, server, f"bench_{uuid.uuid4().hex[:10]}"
        self._tmp = tempfile.TemporaryDirectory(prefix="convoca-bench-")
        self.tmp = Path(self._tmp.name)
        if kind == "sqlite":
            self.url = f"sqlite:///{self.tmp / 'bench.sqlite'}"
        else:
            from sqlalchemy.engine import make_url

            self.url = make_url(server).set(database=self.name).render_as_string(False)

    def url_for(self, name: str) -> str:
        """Another database beside ours (a baseline app's): a file, or a table in ours."""
        return f"sqlite:///{self.tmp / name}.sqlite" if self.kind == "sqlite" else self.url

    def _admin(self, sql: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(sql))
        except sa.exc.SQLAlchemyError as error:
            raise BenchError(f"PostgreSQL: {str(error).splitlines()[0]}") from error
        finally:
            engine.dispose()

    def __enter__(self) -> Database:
        if self.kind == "postgresql":
            self._admin(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            if self.kind == "postgresql":
                self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            self._tmp.cleanup()

    def scalar(self, sql: str, url: str | None = None, **params: Any) -> Any:
        """The one row ``sql`` returns, from our database or the one at ``url``."""
        import sqlalchemy as sa

        engine = sa.create_engine(url or self.url)
        try:
            with engine.connect() as connection:
                return connection.execute(sa.text(sql), params).one()
        finally:
            engine.dispose()

    def backend_pids(self) -> list[int]:
        """PostgreSQL backends connected to this database (not the one asking)."""
        if self.kind != "postgresql":
            return []
        import sqlalchemy as sa

        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as connection:
                return list(
                    connection.scalars(
                        sa.text(
                            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid()"
                        )
                    )
                )
        finally:
            engine.dispose()


class App:
    """The checkout being measured: its own .venv, Flask CLI and code."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = str(root / ".venv" / "bin" / "python")

    def describe(self) -> str:
        def git(*args: str) -> str:
            command = ["git", "-C", str(self.root), *args]
            return subprocess.run(command, capture_output=True, text=True).stdout.strip()

        dirty = " with uncommitted changes" if git("status", "--porcelain") else ""
        return f"{self.root} at {git('log', '-1', '--format=%h %cs') or '?'}{dirty}"

    def check(self) -> None:
        """The root has a .venv whose ``service`` package is the root's own."""
        if not Path(self.python).exists():
            raise BenchError(f"{self.python} is missing: run `make install` in {self.root}")
        found = self.run(["-c", "import service; print(service.__file__)"], {}).strip()
        if not Path(found).resolve().is_relative_to(self.root):
            raise BenchError(f"{self.python} imports service from {found}, not {self.root}")

    def env(self, database: Database) -> dict[str, str]:
        """The caller's environment without its Convoca/Flask settings, plus the bench's."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CONVOCA_", "FLASK_")) and key != "DATABASE_URL"
        }
        instance = database.tmp / "instance"
        instance.mkdir(exist_ok=True)
        env.update(
            FLASK_APP="wsgi",
            DATABASE_URL=database.url,
            CONVOCA_INSTANCE_PATH=str(instance),
            CONVOCA_SECRET_KEY="bench",
            CONVOCA_PUBLIC_URL="http://127.0.0.1",
            CONVOCA_RATELIMIT_ENABLED="false",
            CONVOCA_SESSION_COOKIE_SECURE="false",  # plain HTTP on loopback
            PYTHONPATH=f"{self.root}{os.pathsep}{BENCH_DIR}",
        )
        return env

    def run(self, argv: list[str], env: dict[str, str], stdin: str | None = None) -> str:
        """Run the root's Python with ``argv`` in the root; its stdout."""
        try:
            done = subprocess.run(
                [self.python, *argv],
                cwd=self.root,
                env=env or None,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise BenchError(f"{argv[:3]} took over 900 s") from error
        if done.returncode != 0:
            raise BenchError(f"{argv[:3]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout

    def flask(self, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
        return self.run(["-m", "flask", *args], env, stdin)

    def call(self, env: dict[str, str], script: str, function: str, **kwargs: Any) -> Any:
        """``function(**kwargs)`` of ``bench/<script>`` run inside the root's Python (which
        imports the root's ``service``); its JSON result."""
        code = (
            "import json, runpy, sys; f = runpy.run_path(sys.argv[1])[sys.argv[2]]; "
            "print('\\n' + json.dumps(f(**json.loads(sys.argv[3]))))"
        )
        out = self.run(["-c", code, str(BENCH_DIR / script), function, json.dumps(kwargs)], env)
        return json.loads(out.rstrip().rsplit("\n", 1)[-1])


# --- Servers and CPU --------------------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    """utime + stime of a process so far, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_kb(pid: int, name: str) -> int:
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM)."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in lines if line.startswith(name + ":"))


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class Server:
    """``gunicorn -w N -k sync`` of the app root's .venv on a free loopback port."""

    def __init__(
        self,
        label: str,
        app: App,
        spec: str,
        env: dict[str, str],
        *,
        cwd: Path | None = None,
        workers: int = 2,
        timeout: int = 30,
    ) -> None:
        self.label, self.app, self.spec, self.env = label, app, spec, env
        self.cwd, self.workers, self.timeout = cwd or app.root, workers, timeout
        self.log_path = Path(env["CONVOCA_INSTANCE_PATH"]).parent / f"gunicorn-{label}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def __enter__(self) -> Server:
        for _attempt in range(3):  # the free port could be taken before gunicorn binds it
            self.port = free_port()
            self._log = open(self.log_path, "ab")  # closed in __exit__
            command = [
                self.app.python,
                "-m",
                "gunicorn",
                "-w",
                str(self.workers),
                "-k",
                "sync",
                "--bind",
                f"{LOOPBACK}:{self.port}",
                "--timeout",
                str(self.timeout),
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                self.spec,
            ]
            self.process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._ready():
                return self
            self.__exit__()
        raise BenchError(f"{self.label} did not start:\n{self.log_tail()}")

    def _ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                get(self.url + "/", timeout=2)
            except OSError:
                time.sleep(0.1)
                continue
            if len(self.worker_pids()) == self.workers:
                for pid in self.worker_pids():  # the served code is the one asked for
                    if Path(f"/proc/{pid}/cwd").resolve() != self.cwd.resolve():
                        raise BenchError(f"{self.label}: worker {pid} runs outside {self.cwd}")
                return True
            time.sleep(0.1)
        return False

    def __exit__(self, *_exc: object) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group this script started
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def cpu(self) -> float:
        """CPU seconds of the master and its workers so far."""
        assert self.process is not None
        return sum(proc_cpu(pid) for pid in [self.process.pid, *self.worker_pids()])

    def get_ok(self, path: str) -> str:
        """The page at ``path``, which must answer 200 without a redirect."""
        try:
            with _HTTP.open(self.url + path, timeout=30) as answer:
                if answer.url == self.url + path:
                    return answer.read().decode(errors="replace")
                raise BenchError(f"{self.label}: GET {path} redirects to {answer.url}")
        except urllib.error.HTTPError as error:
            raise BenchError(f"{self.label}: GET {path} answered {error.code}") from error

    def final_path(self, path: str) -> str:
        """Where ``path`` leads once redirects are followed (wrk does not follow them)."""
        with _HTTP.open(self.url + path, timeout=30) as answer:
            return answer.url.removeprefix(self.url)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextmanager
def cpu_meter(server: Server, database: Database | None = None) -> Iterator[dict[str, float]]:
    """CPU seconds the server (and, on PostgreSQL, the backends serving this database) spent
    inside the block: ``{"gunicorn": s, "postgres": s}``, from /proc, not the wall clock."""
    pids = database.backend_pids() if database else []
    before_pg = {pid: proc_cpu(pid) for pid in pids}
    before = server.cpu()
    spent: dict[str, float] = {}
    yield spent
    spent["gunicorn"] = server.cpu() - before
    after_pg = database.backend_pids() if database else []
    spent["postgres"] = sum(proc_cpu(pid) - before_pg.get(pid, 0.0) for pid in after_pg)


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int  # socket errors and answers outside 2xx/3xx (the Lua scripts count their own)
    counts: dict[str, Any] = field(default_factory=dict)  # the Lua script's "bench ..." line

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(
    url: str,
    duration: int,
    script: str | None = None,
    *script_args: str,
    connections: int = WRK_CONNECTIONS,
    threads: int = WRK_THREADS,
) -> Load:
    """wrk on ``url``; with ``script`` (in bench/), the arguments after ``--``."""
    binary = shutil.which("wrk")
    if binary is None:
        raise BenchError("wrk is not installed: apt-get install -y wrk")
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{duration}s", url]
    if script:
        command[1:1] = ["-s", str(BENCH_DIR / script)]
        command += ["--", *script_args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    out = done.stdout + done.stderr
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", out)
    if done.returncode != 0 or total is None:
        raise BenchError(f"wrk on {url} failed ({done.returncode}):\n{out}")
    seconds = float(total.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[total.group(3)]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    counts: dict[str, Any] = {}
    line = re.search(r"^bench (.*)$", out, re.MULTILINE)
    for item in line.group(1).split() if line else []:
        key, value = item.split("=", 1)
        counts[key] = int(value) if value.isdigit() else value
    return Load(int(total.group(1)), seconds, errors, counts)


def around(before: float, after: float) -> float:
    """A row's baseline: the mean of the baseline measured just before and just after it, so
    outside load shows as a gap between the two rather than as a skew."""
    if max(before, after) and abs(before - after) / max(before, after) > 0.15:
        log(f"  warning: the baseline moved from {before:,.1f} to {after:,.1f}: a noisy run")
    return (before + after) / 2


def event_document(slug: str, **fields: Any) -> dict[str, Any]:
    """A published online event in 2031, as ``flask events import`` reads it."""
    return {
        "slug": slug,
        "title": "Solidarity meeting",
        "title_es": "Reunión de solidaridad",
        "summary": "Speakers from La Paz on the struggle",
        "description": "We meet to **organise**.",
        "starts_at": "2031-05-12T18:30:00+01:00",
        "ends_at": "2031-05-12T20:00:00+01:00",
        "timezone": "Europe/London",
        "format": "online",
        "join_url": "https://meet.example.org/bench-room-4821",
        "status": "published",
        "organised_by": "Friends of Bolivia",
        "people": [{"name": "Ollie Vargas", "role": "speaker", "email": "ollie@example.org"}],
        **fields,
    }


def import_events(app: App, env: dict[str, str], database: Database, *events: dict) -> None:
    path = database.tmp / "events.json"
    path.write_text(json.dumps(list(events)))
    app.flask(env, "events", "import", str(path))


def pages_vs_bare(
    args: argparse.Namespace, ours: Server, bare: Server, pages: list[tuple[str, str, float | None]]
) -> list[Row]:
    """Each (row name, path, target): ours in req/s ÷ the bare route measured around it."""
    for _name, path, _target in pages:
        ours.get_ok(path)
    if args.warmup:
        for url in [bare.url + "/", *(ours.url + path for _n, path, _t in pages)]:
            wrk(url, args.warmup)
    rows = []
    for name, path, target in pages:
        runs = ((bare, "/"), (ours, path), (bare, "/"))
        before, load, after = (timed(server, url, args.duration) for server, url in runs)
        if load.errors:
            raise BenchError(f"{path}: {load.errors} errors under load")
        rows.append(throughput(name, load.rate, around(before.rate, after.rate), "req/s", target))
        rows[-1].note = f"{load.counts['cpu_ms']:.2f} ms gunicorn CPU/req  {path}"
    return rows


def timed(server: Server, path: str, duration: int) -> Load:
    """wrk on one of the server's URLs, with the server's CPU per request in counts."""
    before = server.cpu()
    load = wrk(server.url + path, duration)
    load.counts["cpu_ms"] = (server.cpu() - before) * 1000 / max(load.requests, 1)
    return load

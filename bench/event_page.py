"""Load benchmark of the public event pages against a bare Flask route measured in the same run.

    .venv/bin/python bench/event_page.py [--duration 10] [--json] [--database-url URL]

Set-up: a temporary instance directory and SQLite database (or the database at
``--database-url``, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/NAME``), filled with
``flask db upgrade`` and ``flask demo load``. Two servers on free loopback ports, each
``gunicorn -w 2 -k sync``: the bare "hello" app (``bench/bare_app.py``) and ours (``wsgi:app``).
Each URL is checked to answer 200, warmed up, then measured with ``wrk -t2 -c8 -d<duration>s``,
one URL after another (never two at once: wrk and the servers share the machine's cores).

wrk and the servers share the CPU, so absolute figures mean little: each row is reported as a
ratio to the bare route (ours ÷ bare, above 1 is better). Every URL is warmed up first, then the
bare route is measured before, between and after our URLs, and each row's baseline is the mean of
the bare measurements just before and just after it; a large gap between those two means the
machine was busy with something else and the row is noisy. The table also shows the CPU time
the server's processes spent per request (from /proc), which hardly moves with outside load.

With ``--json`` the last line printed is a JSON list of rows
``{"name", "value", "unit", "baseline", "ratio", "target"}``. The exit status is 0 when the
measurement ran (whatever the ratios; ``--strict`` makes a ratio below target exit 2) and 1 when
it could not run.
"""

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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
LOOPBACK = "127.0.0.1"
EVENT_SLUG = "bolivia-people-power-hope-solidarity"  # service.demo.DEMO_EVENT_SLUG
TARGET = 0.3  # a Jinja page with a few queries should reach at least 0.3x a bare route
ROWS = (
    ("event_page", f"/events/{EVENT_SLUG}"),
    ("event_list", "/"),
    ("event_ics", f"/events/{EVENT_SLUG}.ics"),
)
WORKERS = "2"
WRK_THREADS = 2
WRK_CONNECTIONS = 8
SERVER_START_TIMEOUT = 30.0
CLI_TIMEOUT = 180.0
DRIFT_WARNING = 0.15  # bare route before vs after differing by more than this: noisy run

# Never go through a proxy: every address here is loopback.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    server_cpu_ms: float | None = None  # CPU of the server's processes per request (Linux)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with _HTTP.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def app_env(database_url: str, instance_path: str) -> dict[str, str]:
    """The caller's environment without its Convoca/Flask settings, plus the benchmark's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CONVOCA_", "FLASK_")) and key != "DATABASE_URL"
    }
    env.update(
        FLASK_APP="wsgi",
        CONVOCA_SECRET_KEY="bench",
        CONVOCA_PUBLIC_URL="http://127.0.0.1",
        DATABASE_URL=database_url,
        CONVOCA_INSTANCE_PATH=instance_path,
    )
    return env


def flask_cli(args: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "flask", *args]
    try:
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=env,
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


class Server:
    """``gunicorn -w 2 -k sync`` on a free loopback port, in its own process group."""

    def __init__(self, label: str, app_spec: str, cwd: Path, env: dict[str, str], logs: Path):
        self.label = label
        self.app_spec = app_spec
        self.cwd = cwd
        self.env = env
        self.log_path = logs / f"gunicorn-{label}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, ready_path: str) -> None:
        # The free port could be taken between our probe and gunicorn's bind: try a few.
        for _attempt in range(3):
            self.port = free_port()
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    WORKERS,
                    "-k",
                    "sync",
                    "--bind",
                    f"{LOOPBACK}:{self.port}",
                    "--log-level",
                    "warning",
                    "--graceful-timeout",
                    "5",
                    self.app_spec,
                ],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._wait_ready(ready_path):
                return
            self.stop()
        raise BenchError(f"{self.label} server did not start; its log:\n{self.log_tail()}")

    def _wait_ready(self, path: str) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                status, _body = get(self.base_url + path, timeout=2.0)
            except OSError:
                time.sleep(0.1)
                continue
            if status == 200:
                return True
            raise BenchError(f"{self.label}: GET {path} answered {status}, not 200")
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group this script started
                process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def cpu_seconds(self) -> float | None:
        """User + system CPU of gunicorn's master and workers so far; None without /proc."""
        if self.process is None:
            return None
        try:
            pids = [self.process.pid]
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit() and _proc_stat(entry.name)[1] == self.process.pid:
                    pids.append(int(entry.name))
            ticks = 0
            for pid in pids:
                fields = _proc_stat(str(pid))[0]
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            return None
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _proc_stat(pid: str) -> tuple[list[str], int]:
    """Fields of /proc/<pid>/stat after the command name, and the parent's pid."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields, int(fields[1])


def run_wrk(wrk: str, url: str, duration: int) -> WrkResult:
    command = [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", url]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 30, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"wrk on {url} did not finish in {duration + 30} s") from error
    output = done.stdout + done.stderr
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if done.returncode != 0 or rate is None:
        raise BenchError(f"wrk on {url} failed ({done.returncode}):\n{output}")
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result = WrkResult(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)) if total else 0,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )
    if result.non_2xx_3xx:
        raise BenchError(f"{url}: {result.non_2xx_3xx} non-2xx/3xx answers under load:\n{output}")
    return result


def measure(wrk: str, server: Server, path: str, duration: int) -> WrkResult:
    """wrk on one URL, and the CPU the server spent per request meanwhile.

    Requests/sec moves with whatever else runs on the machine; CPU per request hardly does,
    so it says where a slow ratio comes from when the run is noisy.
    """
    cpu_before = server.cpu_seconds()
    result = run_wrk(wrk, server.base_url + path, duration)
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.server_cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
    cpu = f", {result.server_cpu_ms:.2f} ms server CPU/req" if result.server_cpu_ms else ""
    log(
        f"  {server.base_url}{path}: {result.requests_per_second:,.1f} req/s "
        f"({result.requests} requests, {result.socket_errors} socket errors{cpu})"
    )
    return result


def check_ok(server: Server, paths: list[str]) -> dict[str, int]:
    """Every measured URL must answer 200 with a body before any measurement; returns sizes."""
    sizes = {}
    for path in paths:
        status, body = get(server.base_url + path)
        if status != 200 or not body:
            raise BenchError(f"{server.label}: GET {path} answered {status} ({len(body)} bytes)")
        sizes[path] = len(body)
    return sizes


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="convoca-bench-") as tmp:
        tmp_path = Path(tmp)
        instance = tmp_path / "instance"
        instance.mkdir()
        database_url = args.database_url or f"sqlite:///{tmp_path / 'bench.sqlite'}"
        env = app_env(database_url, str(instance))
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", database_url)  # no password in logs
        log(f"database: {shown if args.database_url else 'SQLite (temporary)'}")
        flask_cli(["db", "upgrade"], env)
        flask_cli(["demo", "load"], env)

        bare = Server("bare", "bare_app:app", BENCH_DIR, env, tmp_path)
        ours = Server("ours", "wsgi:app", PROJECT_ROOT, env, tmp_path)
        try:
            bare.start("/")
            ours.start("/")
            check_ok(bare, ["/"])
            sizes = check_ok(ours, [path for _name, path in ROWS])

            log(f"warming up, {args.warmup} s per URL:")
            if args.warmup > 0:
                for url in [bare.base_url + "/", *(ours.base_url + path for _n, path in ROWS)]:
                    run_wrk(wrk, url, args.warmup)
            # Bare, row, bare, row, ..., bare: each row is compared with the mean of the bare
            # measurements just before and just after it, so a load spike elsewhere on the
            # machine shows up as a gap between the two instead of skewing a distant baseline.
            log(f"measuring, {args.duration} s per URL, the bare route between ours:")
            bare_runs = [measure(wrk, bare, "/", args.duration)]
            measured = {}
            for name, path in ROWS:
                measured[name] = measure(wrk, ours, path, args.duration)
                bare_runs.append(measure(wrk, bare, "/", args.duration))
        finally:
            ours.stop()
            bare.stop()

    rows, around = [], {}
    for index, (name, _path) in enumerate(ROWS):
        before = bare_runs[index].requests_per_second
        after = bare_runs[index + 1].requests_per_second
        baseline = (before + after) / 2
        around[name] = (before, after)
        rows.append(
            {
                "name": name,
                "value": round(measured[name].requests_per_second, 1),
                "unit": "req/s",
                "baseline": round(baseline, 1),
                "ratio": round(measured[name].requests_per_second / baseline, 3),
                "target": TARGET,
            }
        )
    return {
        "rows": rows,
        "paths": dict(ROWS),
        "sizes": sizes,
        "around": around,
        "socket_errors": {name: result.socket_errors for name, result in measured.items()},
        "server_cpu_ms": {name: result.server_cpu_ms for name, result in measured.items()},
        "bare_cpu_ms": _mean([run.server_cpu_ms for run in bare_runs]),
        "database": "PostgreSQL/other (--database-url)" if args.database_url else "SQLite",
    }


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


def print_table(report: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"Public event pages vs a bare Flask 'hello' route, gunicorn -w {WORKERS} -k sync, "
        f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{args.duration}s, {report['database']}"
    )
    print("baseline = mean of the bare route measured just before and just after each row\n")
    header = (
        f"{'name':<11} {'path':<49} {'bytes':>5} {'req/s':>7} "
        f"{'baseline':>16} {'ratio':>6} {'target':>6} {'CPU/req':>8}"
    )
    print(header)
    print("-" * len(header))
    noisy = []
    for row in report["rows"]:
        path = report["paths"][row["name"]]
        before, after = report["around"][row["name"]]
        if abs(before - after) / max(before, after) > DRIFT_WARNING:
            noisy.append(f"{row['name']} (bare {before:,.0f} then {after:,.0f} req/s)")
        verdict = "ok" if row["ratio"] >= row["target"] else "BELOW TARGET"
        print(
            f"{row['name']:<11} {path:<49} {report['sizes'][path]:>5} {row['value']:>7,.1f} "
            f"{row['baseline']:>8,.1f} {row['unit']:<7} {row['ratio']:>6.3f} "
            f"{row['target']:>6.2f} {_ms(report['server_cpu_ms'][row['name']]):>8}  {verdict}"
        )
    print(
        f"\nCPU/req: CPU time of the server's processes per request (bare route "
        f"{_ms(report['bare_cpu_ms'])}), steadier than req/s when the machine is shared."
    )
    if noisy:
        print(
            f"\nwarning: the bare route moved by over {DRIFT_WARNING:.0%} around "
            f"{', '.join(noisy)}: something else was using the CPU; these ratios are noisy."
        )
    if any(report["socket_errors"].values()):
        print(f"\nwarning: socket errors under load: {report['socket_errors']}")


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON, last line")
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of wrk per URL (default 10)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of wrk per URL before measuring (default 2)"
    )
    parser.add_argument(
        "--database-url", help="use this (empty or disposable) database instead of SQLite"
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 if a ratio is below target")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be at least 1 and --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally that stops the servers

    signal.signal(signal.SIGTERM, terminated)
    try:
        report = run(args)
    except BenchError as error:
        log(f"bench/event_page.py: {error}")
        return 1
    if args.json:
        print(json.dumps(report["rows"]))
    else:
        print_table(report, args)
    below = any(row["ratio"] < row["target"] for row in report["rows"])
    return 2 if args.strict and below else 0


if __name__ == "__main__":
    sys.exit(main())

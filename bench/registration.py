"""Registering under load against the smallest honest registration (registration_baseline_app),
a rush on a small event with a waiting list, and the server CPU per complete registration.

    .venv/bin/python bench/registration.py [--db all] [--duration 10] [--json] [--app-root PATH]
"""

from __future__ import annotations

import argparse
import json
import uuid

import harness
from harness import BenchError, Database, Row

SLUG, RUSH_SLUG, CAPACITY, RUSH_CAPACITY = "registration-bench", "rush-bench", 1_000_000, 20
TARGET = 0.8
PRETIX_CPU_MS = 580.0  # pretix 2026.8: 0.58 core-seconds per free registration
PRAGMAS = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys", "secure_delete")


def sqlite_pragmas() -> dict[str, object]:
    """Run inside the app root: what our app's SQLite connections are set to."""
    from sqlalchemy import text

    from service import create_app
    from service.extensions import db

    with create_app().app_context():
        return {name: db.session.scalar(text(f"PRAGMA {name}")) for name in PRAGMAS}


def counts(database: Database, slug: str) -> tuple[int, int, int, int]:
    """(rows, distinct emails, confirmed, waiting) of an event's registrations."""
    return database.scalar(
        "SELECT count(*), count(DISTINCT email),"
        " coalesce(sum(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), 0),"
        " coalesce(sum(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END), 0)"
        " FROM registrations WHERE event_id = (SELECT id FROM events WHERE slug = :slug)",
        slug=slug,
    )


class Poster:
    """bench/register.lua on one server's form, adding up what it sent and got back."""

    def __init__(self, server: harness.Server, path: str) -> None:
        self.server, self.path, self.ok, self.posts, self.errors = server, path, 0, 0, 0
        self.url = server.env.get("BENCH_DATABASE_URL")  # the baseline's database

    def _wrk(self, duration: int, mode: str, *extra: str, connections: int = 8) -> harness.Load:
        run_id = uuid.uuid4().hex[:8]
        script = ("register.lua", mode, run_id, self.path, *extra)
        load = harness.wrk(self.server.url, duration, *script, connections=connections)
        self.ok += load.counts["ok"]
        self.posts += load.counts["posts"]
        self.errors += load.errors + load.counts["errors"]
        return load

    def rate(self, duration: int) -> float:
        """302s per second over ``duration`` seconds of wrk."""
        load = self._wrk(duration, "form")
        return load.counts["ok"] / load.seconds

    def cycles(self, duration: int) -> int:
        """Complete registrations (the event page as a first-time visitor, POST, the page
        after) over ``duration`` seconds, one connection per wrk thread."""
        page = self.path.removesuffix("/register")
        return self._wrk(duration, "cycle", page, connections=2).counts["complete"]


def check(label: str, found: tuple[int, int, int, int], poster: Poster, capacity: int) -> list[str]:
    """What is wrong with an event's registrations after the load (empty: nothing)."""
    rows, emails, confirmed, waiting = found
    problems = []
    if not poster.ok <= rows <= poster.posts:
        problems.append(f"{label}: {rows} rows for {poster.ok} 302s of {poster.posts} POSTs")
    if emails != rows or confirmed + waiting != rows:
        problems.append(f"{label}: {rows} rows, {emails} emails, {confirmed}+{waiting} statuses")
    if confirmed > capacity:
        problems.append(f"{label}: OVERBOOKED, {confirmed} confirmed for {capacity} places")
    if rows >= capacity and confirmed != capacity:
        problems.append(f"{label}: {confirmed} confirmed of {rows} for {capacity} places")
    if poster.errors:
        problems.append(f"{label}: {poster.errors} errors (answers other than 302, or sockets)")
    return problems


def scenario(args: argparse.Namespace, database: Database) -> tuple[list[Row], list[str]]:
    app = harness.App(args.app_root)
    env = app.env(database)
    app.flask(env, "db", "upgrade")
    harness.import_events(
        app,
        env,
        database,
        harness.event_document(SLUG, capacity=CAPACITY),
        harness.event_document(RUSH_SLUG, capacity=RUSH_CAPACITY, waiting_list=True),
    )
    base_env = dict(env, BENCH_DATABASE_URL=database.url_for("baseline"))
    if database.kind == "sqlite":
        base_env["BENCH_SQLITE_PRAGMAS"] = json.dumps(
            app.call(env, "registration.py", "sqlite_pragmas")
        )
    app.run(["-c", "import registration_baseline_app"], base_env)  # its table, before the workers
    with harness.Server("ours", app, "wsgi:app", env) as ours:
        event, rush = (
            Poster(ours, f"/events/{SLUG}/register"),
            Poster(ours, f"/events/{RUSH_SLUG}/register"),
        )
        baseline_app = "registration_baseline_app:app"
        with harness.Server("baseline", app, baseline_app, base_env, cwd=harness.BENCH_DIR) as base:
            plain = Poster(base, "/register")
            if args.warmup:
                event.rate(args.warmup), plain.rate(args.warmup)
            before, value, after = (poster.rate(args.duration) for poster in (plain, event, plain))
        rush.rate(max(1, min(args.duration, 3)))
        pg = database if database.kind == "postgresql" else None
        with harness.cpu_meter(ours, pg) as spent:  # the baseline has stopped: ours alone
            complete = event.cycles(args.duration)
    problems = check("event", counts(database, SLUG), event, CAPACITY)
    problems += check("rush", counts(database, RUSH_SLUG), rush, RUSH_CAPACITY)
    base_rows = database.scalar("SELECT count(*) FROM baseline_registrations", plain.url)[0]
    if not plain.ok <= base_rows <= plain.posts or plain.errors:
        problems.append(f"baseline: {base_rows} rows for {plain.ok} 302s, {plain.errors} errors")
    if problems:
        raise BenchError("; ".join(problems))
    per = {key: seconds * 1000 / max(complete, 1) for key, seconds in spent.items()}
    rows = [
        harness.throughput(
            f"registration_{database.kind}", value, harness.around(before, after), "302s/s", TARGET
        ),
        harness.duration_row(
            f"registration_cpu_ms_{database.kind}", sum(per.values()), PRETIX_CPU_MS, "ms", None
        ),
    ]
    rows[1].note = f"gunicorn {per['gunicorn']:.1f} + postgres {per['postgres']:.1f} ms"
    _rows, _emails, confirmed, waiting = counts(database, RUSH_SLUG)
    notes = [
        f"checks passed: no errors, {event.ok:,} registrations in all, none over capacity; a rush"
        f" on {RUSH_CAPACITY} places: {confirmed} confirmed, {waiting} waiting",
        f"registration_cpu_ms: {complete} complete registrations (event page as a first-time "
        "visitor, POST, the page after), 2 at a time; baseline: pretix's 580 ms"
        + ("" if pg else "; SQLite: gunicorn's CPU only"),
    ]
    if database.kind == "sqlite":
        notes.append(f"SQLite, ours and baseline: {base_env['BENCH_SQLITE_PRAGMAS']}")
    return rows, notes


if __name__ == "__main__":
    arguments = harness.parser(__doc__.split("\n\n")[0]).parse_args()
    raise SystemExit(harness.main(scenario, arguments, "Registration under wrk"))

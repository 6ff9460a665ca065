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
    """The Lua script's form mode on one server, adding up what it sent and got back."""

    def __init__(self, server: harness.Server, path: str) -> None:
        self.server, self.path, self.ok, self.posts, self.errors = server, path, 0, 0, 0
        self.run_id = uuid.uuid4().hex[:8]

    def rate(self, duration: int) -> float:
        """302s per second over ``duration`` seconds of wrk."""
        load = harness.wrk(
            self.server.url + self.path, duration, "register.lua", "form", self.run_id, self.path
        )
        self.ok += load.counts["ok"]
        self.posts += load.counts["posts"]
        self.errors += load.errors + load.counts["errors"]
        return load.counts["ok"] / load.seconds


def check(label: str, found: tuple[int, int, int, int], poster: Poster, capacity: int) -> list:
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
        base_env["BENCH_SQLITE_PRAGMAS"] = json.dumps(app.call(env, "registration.py", "sqlite_pragmas"))
    app.run(["-c", "import registration_baseline_app"], base_env)  # its table, before the workers
    form = f"/events/{SLUG}/register"
    with (
        harness.Server("ours", app, "wsgi:app", env) as ours,
        harness.Server("baseline", app, "registration_baseline_app:app", base_env, cwd=harness.BENCH_DIR) as base,
    ):
        posters = Poster(ours, form), Poster(base, "/register"), Poster(ours, f"/events/{RUSH_SLUG}/register")
        if args.warmup:
            posters[0].rate(args.warmup), posters[1].rate(args.warmup)
        value, baseline = harness.between(lambda: posters[1].rate(args.duration), lambda: posters[0].rate(args.duration))
        posters[2].rate(max(1, min(args.duration, 3)))
        cpu_db = database if database.kind == "postgresql" else None
        with harness.cpu_meter(ours, cpu_db) as spent:
            load = harness.wrk(ours.url, args.duration, "register.lua", "cycle", posters[0].run_id + "c",
                               form, f"/events/{SLUG}", connections=2)
        posters[0].ok += load.counts["ok"]
        posters[0].posts += load.counts["posts"]
        posters[0].errors += load.errors + load.counts["errors"]
    problems = check("event", counts(database, SLUG), posters[0], CAPACITY)
    problems += check("rush", counts(database, RUSH_SLUG), posters[2], RUSH_CAPACITY)
    base_rows = database.scalar("SELECT count(*) FROM baseline_registrations", base_env["BENCH_DATABASE_URL"])[0]
    if not posters[1].ok <= base_rows <= posters[1].posts or posters[1].errors:
        problems.append(f"baseline: {base_rows} rows for {posters[1].ok} 302s, {posters[1].errors} errors")
    if problems:
        raise BenchError("; ".join(problems))
    complete = max(load.counts["complete"], 1)
    cpu_ms = (spent["gunicorn"] + spent["postgres"]) * 1000 / complete
    suffix = f"_{database.kind}"
    rows = [
        harness.throughput("registration" + suffix, value, baseline, "302s/s", TARGET),
        harness.duration_row("registration_cpu_ms" + suffix, cpu_ms, PRETIX_CPU_MS, "ms", None),
    ]
    rows[1].note = f"gunicorn {spent['gunicorn'] * 1000 / complete:.1f} + postgres {spent['postgres'] * 1000 / complete:.1f} ms, {complete} registrations"
    rush = counts(database, RUSH_SLUG)
    notes = [
        f"checks: no errors; {posters[0].ok:,} registrations, none over capacity; rush on "
        f"{RUSH_CAPACITY} places: {rush[2]} confirmed, {rush[3]} waiting",
        "registration_cpu_ms: baseline is pretix's 580 ms; ratio = how many times less"
        + ("" if cpu_db else " (SQLite: gunicorn's CPU only)"),
    ]
    if database.kind == "sqlite":
        notes.append(f"SQLite, ours and baseline: {base_env['BENCH_SQLITE_PRAGMAS']}")
    return rows, notes


if __name__ == "__main__":
    arguments = harness.parser(__doc__.split("\n\n")[0]).parse_args()
    raise SystemExit(harness.main(scenario, arguments, "Registration under wrk"))

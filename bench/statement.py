"""Load benchmark of a statement's page with 100,000 signatures, against a bare Flask route
measured in the same run, on SQLite and then on PostgreSQL; with the query plans.

    .venv/bin/python bench/statement.py [--duration 10] [--warmup 2] [--signatures 100000]
        [--json] [--strict] [--sqlite-only | --database-url postgresql+psycopg://…/postgres]

Set-up, once per database: a temporary instance directory and either a temporary SQLite file or
a throwaway database ``convoca_bench_<random>`` on the PostgreSQL server of ``--database-url``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; skipped with a warning when
that default does not answer), dropped at the end. ``flask db upgrade`` and ``flask demo load``
(the demo statement ``solidarity-with-bolivia``), then 100,000 confirmed signatures with names
made up from common Bolivian, Spanish and British first names and surnames; four in five chose
to be listed. The query plans of the page's queries (count, list, search) are printed, with
their time in this process, to show they run on indexes.

Load: the servers and wrk of ``bench/event_page.py`` (``gunicorn -w 2 -k sync`` each, ``wrk
-t2 -c8``): the bare "hello" app and ours with its default settings, which render a public page
at most once per ``PAGE_CACHE_SECONDS`` (10) per process and address. Three URLs: the first
page, page 1,000 and a search by surname; each row is ours ÷ the mean of the bare route measured
just before and just after it (above 1 is better; target 0.3). The same three are then measured
with the page cache off (``CONVOCA_PAGE_CACHE_SECONDS=0``), every request running its queries:
those rows are shown for what they tell, with no target.

With ``--json`` the last line printed is a JSON list of rows ``{"name", "value", "unit",
"baseline", "ratio", "target"}``; PostgreSQL's row names end in ``_postgresql``. Exit status: 0
when the measurement ran (``--strict``: 2 when a ratio with a target is below it), 1 when it
could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from event_page import (
    BENCH_DIR,
    PROJECT_ROOT,
    BenchError,
    Server,
    WrkResult,
    app_env,
    check_ok,
    flask_cli,
    log,
    measure,
    run_wrk,
)
from registration import DEFAULT_POSTGRES, Database, postgres_answers, postgres_url

sys.path.insert(0, str(PROJECT_ROOT))

SLUG = "solidarity-with-bolivia"  # service.demo.DEMO_STATEMENT_SLUG
SEARCH = "quispe"
ROWS = (
    ("statement_first_page", f"/statements/{SLUG}"),
    ("statement_page_1000", f"/statements/{SLUG}?page=1000"),
    ("statement_search", f"/statements/{SLUG}?q={SEARCH}"),
)
TARGET = 0.3
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
FIRST_NAMES = [
    "Ana",
    "María",
    "Rosa",
    "Juana",
    "Carmen",
    "Lucía",
    "Elena",
    "Sofía",
    "Isabel",
    "Teresa",
    "Marta",
    "Laura",
    "Sarah",
    "Emma",
    "Olivia",
    "Grace",
    "Ruth",
    "Aisha",
    "Fatima",
    "Priya",
    "Juan",
    "José",
    "Luis",
    "Carlos",
    "Jorge",
    "Pedro",
    "Miguel",
    "Evo",
    "Álvaro",
    "Tomás",
    "Diego",
    "Andrés",
    "Mateo",
    "James",
    "John",
    "David",
    "Peter",
    "Tom",
    "Sam",
    "Kwame",
    "Ravi",
    "Daniel",
    "Paul",
    "Mark",
]
SURNAMES = [
    "Quispe",
    "Mamani",
    "Choque",
    "Condori",
    "Flores",
    "Huanca",
    "Apaza",
    "Ticona",
    "Limachi",
    "Vargas",
    "Rojas",
    "Gutiérrez",
    "López",
    "García",
    "Fernández",
    "Martínez",
    "Rodríguez",
    "Pérez",
    "Sánchez",
    "Romero",
    "Torres",
    "Morales",
    "Añez",
    "Arce",
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Clarke",
    "Patel",
    "Khan",
    "Murphy",
    "Kelly",
]
TOWNS = ("La Paz", "El Alto", "Cochabamba", "Sucre", "London", "Leeds", "Glasgow", "Madrid", "")


def make_signatories(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` plausible signatories, confirmed one a minute from 2027 on."""
    from service.statements.service import fold

    chooser = random.Random(seed)
    start = datetime(2027, 1, 1, tzinfo=UTC)
    people = []
    for number in range(count):
        name = f"{chooser.choice(FIRST_NAMES)} {chooser.choice(SURNAMES)}"
        if chooser.random() < 0.3:
            name += f" {chooser.choice(SURNAMES)}"
        moment = start + timedelta(minutes=number)
        people.append(
            {
                "name": name,
                "sort_key": fold(name),
                "email": f"signer{number}@example.org",
                "affiliation": "",
                "town": chooser.choice(TOWNS),
                "country": "",
                "show_name": chooser.random() < 0.8,
                "keep_informed": False,
                "language": "en",
                "status": "approved",
                "featured": False,
                "link_secret": uuid.uuid4().hex,
                "created_at": moment,
                "confirmed_at": moment,
            }
        )
    return people


def load_signatures(database_url: str, count: int) -> float:
    """Insert ``count`` confirmed signatures (and their names' words) into the demo statement;
    returns the seconds it took."""
    import sqlalchemy as sa

    from service.statements.models import Signature, SignatureWord, Statement
    from service.statements.service import name_words

    started = time.perf_counter()
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            statement_id = connection.scalar(sa.select(Statement.id).where(Statement.slug == SLUG))
            if statement_id is None:
                raise BenchError(f"the demo statement {SLUG} is missing")
            people = make_signatories(count)
            for start in range(0, count, 5000):
                batch = [
                    {**person, "statement_id": statement_id}
                    for person in people[start : start + 5000]
                ]
                ids = connection.execute(
                    sa.insert(Signature).returning(Signature.id, sort_by_parameter_order=True),
                    batch,
                ).scalars()
                words = [
                    {"statement_id": statement_id, "word": word, "signature_id": signature_id}
                    for signature_id, person in zip(ids, batch, strict=True)
                    for word in name_words(person["name"])
                ]
                connection.execute(sa.insert(SignatureWord), words)
            connection.exec_driver_sql("ANALYZE")  # fresh statistics, as autovacuum would
    finally:
        engine.dispose()
    from service.statements import service

    with bench_app(database_url).app_context():
        service.recount(statement_id)  # the counts the page shows, as after any bulk import
    return time.perf_counter() - started


def bench_app(database_url: str) -> Any:
    from service import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "TESTING": True}
    )


def query_plans(database_url: str) -> list[dict[str, Any]]:
    """Each SQL statement the three pages run for the signatory list, its plan and its time."""
    import sqlalchemy as sa

    from service.extensions import db
    from service.statements import service

    results = []
    with bench_app(database_url).app_context():
        statement = service.get_public_statement(SLUG)
        cases = (
            ("first page", lambda: service.public_signatories(statement, 1)),
            ("page 1000", lambda: service.public_signatories(statement, 1000)),
            ("search", lambda: service.public_signatories(statement, 1, search=SEARCH)),
        )
        for label, call in cases:
            seen: list[tuple[str, Any]] = []

            def record(_conn, _cursor, statement_sql, parameters, _context, _many, seen=seen):
                seen.append((statement_sql, parameters))

            sa.event.listen(db.engine, "before_cursor_execute", record)
            try:
                call()  # warm the caches once
                seen.clear()
                started = time.perf_counter()
                call()
                elapsed = time.perf_counter() - started
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", record)
            plans = []
            for statement_sql, parameters in seen:
                prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
                rows = db.session.connection().exec_driver_sql(prefix + statement_sql, parameters)
                plans.append(
                    "\n".join(
                        " | ".join(str(value) for value in row[-1:]) for row in rows.fetchall()
                    )
                )
            results.append({"label": label, "ms": elapsed * 1000, "plans": plans})
        db.session.rollback()
    return results


def run_one(args: argparse.Namespace, wrk: str, server_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="convoca-bench-") as tmp:
        tmp_path = Path(tmp)
        instance = tmp_path / "instance"
        instance.mkdir()
        database = Database(server_url, tmp_path)
        try:
            database_url, _naive_url = database.create()
            env = app_env(database_url, str(instance))
            log(f"{KIND_NAMES[database.kind]}: migrating and loading the demo")
            flask_cli(["db", "upgrade"], env)
            flask_cli(["demo", "load"], env)
            seconds = load_signatures(database_url, args.signatures)
            log(
                f"{KIND_NAMES[database.kind]}: loaded {args.signatures:,} signatures "
                f"in {seconds:.1f} s"
            )
            plans = query_plans(database_url)
            measured = measure_pages(args, wrk, env, tmp_path)
        finally:
            database.drop()
    return {"database": KIND_NAMES[database.kind], "plans": plans, **measured}


def measure_pages(
    args: argparse.Namespace, wrk: str, env: dict[str, str], tmp_path: Path
) -> dict[str, Any]:
    """Bare, row, bare, row… with the default settings, then again with the page cache off."""
    uncached_env = {**env, "CONVOCA_PAGE_CACHE_SECONDS": "0"}
    bare = Server("bare", "bare_app:app", BENCH_DIR, env, tmp_path)
    results: dict[str, Any] = {}
    try:
        bare.start("/")
        for setting, server_env in (("cached", env), ("uncached", uncached_env)):
            ours = Server(f"ours-{setting}", "wsgi:app", PROJECT_ROOT, server_env, tmp_path)
            try:
                ours.start("/")
                sizes = check_ok(ours, [path for _name, path in ROWS])
                if args.warmup > 0:
                    for url in [bare.base_url + "/", *(ours.base_url + p for _n, p in ROWS)]:
                        run_wrk(wrk, url, args.warmup)
                log(f"measuring ({setting} pages), {args.duration} s per URL:")
                bare_runs: list[WrkResult] = [measure(wrk, bare, "/", args.duration)]
                rows: dict[str, WrkResult] = {}
                for name, path in ROWS:
                    rows[name] = measure(wrk, ours, path, args.duration)
                    bare_runs.append(measure(wrk, bare, "/", args.duration))
            finally:
                ours.stop()
            results[setting] = {"rows": rows, "bare": bare_runs, "sizes": sizes}
    finally:
        bare.stop()
    return results


def report_rows(result: dict[str, Any], suffix: str) -> list[dict[str, Any]]:
    rows = []
    for setting in ("cached", "uncached"):
        measured = result[setting]
        for index, (name, _path) in enumerate(ROWS):
            bare = measured["bare"]
            baseline = (bare[index].requests_per_second + bare[index + 1].requests_per_second) / 2
            value = measured["rows"][name].requests_per_second
            rows.append(
                {
                    "name": name + ("" if setting == "cached" else "_uncached") + suffix,
                    "value": round(value, 1),
                    "unit": "req/s",
                    "baseline": round(baseline, 1),
                    "ratio": round(value / baseline, 3),
                    "target": TARGET if setting == "cached" else None,
                }
            )
    return rows


def print_report(result: dict[str, Any], rows: list[dict[str, Any]], args: argparse.Namespace):
    print(
        f"\n== {result['database']}: the statement page with {args.signatures:,} signatures vs a "
        f"bare Flask route (gunicorn -w 2 -k sync, wrk -t2 -c8 -d{args.duration}s) =="
    )
    print("\nQuery plans of the signatory list (time: one call in this process, warm):")
    for case in result["plans"]:
        print(f"\n-- {case['label']}: {case['ms']:.1f} ms")
        for plan in case["plans"]:
            print("   " + plan.replace("\n", "\n   "))
    print(
        f"\n{'name':<40} {'req/s':>9} {'bare req/s':>11} {'ratio':>7} {'target':>7} {'CPU/req':>9}"
    )
    cpu = {
        name + ("" if setting == "cached" else "_uncached"): result[setting]["rows"][name]
        for setting in ("cached", "uncached")
        for name, _path in ROWS
    }
    for row in rows:
        key = row["name"].removesuffix("_postgresql")
        target = "-" if row["target"] is None else f"{row['target']:.2f}"
        verdict = (
            "" if row["target"] is None else ("ok" if row["ratio"] >= row["target"] else "BELOW")
        )
        server_cpu = cpu[key].server_cpu_ms
        print(
            f"{row['name']:<40} {row['value']:>9,.1f} {row['baseline']:>11,.1f} "
            f"{row['ratio']:>7.3f} {target:>7} "
            f"{'n/a' if server_cpu is None else f'{server_cpu:.2f} ms':>9}  {verdict}"
        )
    print(
        "\nrows without _uncached: default settings (a page is rendered at most once per 10 s "
        "per process and address); _uncached: every request renders and queries."
    )


def postgres_server(args: argparse.Namespace) -> str | None:
    if args.sqlite_only:
        return None
    url = postgres_url(args.database_url or DEFAULT_POSTGRES)
    if postgres_answers(url):
        return url
    if args.database_url:
        raise BenchError(f"cannot reach {url}")
    log(f"warning: PostgreSQL at {url} does not answer; SQLite only")
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON, last line")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per URL")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk per URL first")
    parser.add_argument("--signatures", type=int, default=100_000, help="how many to load")
    parser.add_argument("--strict", action="store_true", help="exit 2 if a ratio is below target")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    where.add_argument("--database-url", help=f"a PostgreSQL server (default {DEFAULT_POSTGRES})")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.signatures < 50_000:
        parser.error("--duration >= 1, --warmup >= 0, --signatures >= 50000 (page 1,000)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally blocks that clean up

    signal.signal(signal.SIGTERM, terminated)
    os.environ.pop("DATABASE_URL", None)
    wrk = shutil.which("wrk")
    try:
        if wrk is None:
            raise BenchError("wrk is not installed: apt-get install -y wrk")
        all_rows = []
        postgres = postgres_server(args)
        for server_url in [None, *([postgres] if postgres else [])]:
            result = run_one(args, wrk, server_url)
            rows = report_rows(result, "" if server_url is None else "_postgresql")
            if not args.json:
                print_report(result, rows, args)
            all_rows.extend(rows)
    except BenchError as error:
        log(f"bench/statement.py: {error}")
        return 1
    if args.json:
        print(json.dumps(all_rows))
    below = any(row["target"] is not None and row["ratio"] < row["target"] for row in all_rows)
    return 2 if args.strict and below else 0


if __name__ == "__main__":
    sys.exit(main())

"""A statement's page at 100,000 signatures against a bare Flask route: the cached first page,
and uncached (page cache off) a search, page 1,000 as a visitor paging by "Next" reaches it
(its ``?after=`` cursor) and page 1,000 by its number (``?page=1000``).

    .venv/bin/python bench/statement.py [--db all] [--duration 10] [--signatures 100000] [--json]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import harness
from harness import Database, Row

SLUG = "solidarity-with-bolivia"  # service.demo.DEMO_STATEMENT_SLUG
SEARCH = "quispe"
CACHED, UNCACHED = 0.3, 0.1
FIRST = "Ana María Rosa Juana Carmen Lucía Elena Sofía Sarah Emma Grace Aisha Priya Juan José"
FIRST += " Luis Carlos Jorge Pedro Miguel Evo Álvaro Tomás Diego James John David Kwame Ravi"
LAST = "Quispe Mamani Choque Condori Flores Huanca Apaza Ticona Vargas Rojas Gutiérrez López"
LAST += " García Pérez Sánchez Morales Arce Smith Jones Williams Taylor Brown Evans Patel Khan"
TOWNS = ("La Paz", "El Alto", "Cochabamba", "Sucre", "London", "Leeds", "Glasgow", "Madrid", "")


def load_signatures(count: int) -> float:
    """Run inside the app root: ``count`` approved signatures on the demo statement, four in
    five listed, then the statement's counts; returns the seconds taken."""
    import sqlalchemy as sa

    from service import create_app
    from service.extensions import db

    try:
        from service.statements import models, service
    except ImportError:  # a checkout from before the area was named statements
        from service.signatories import models, service  # type: ignore[no-redef]
    try:
        from service.statements import listing
    except ImportError:  # a checkout from before the list had its own module
        listing = service  # type: ignore[assignment]

    started, chooser = time.perf_counter(), random.Random(7)
    first, last = FIRST.split(), LAST.split()
    with create_app().app_context():
        statement_id = db.session.scalar(
            sa.select(models.Statement.id).where(models.Statement.slug == SLUG)
        )
        for start in range(0, count, 5000):
            batch = []
            for number in range(start, min(start + 5000, count)):
                name = f"{chooser.choice(first)} {chooser.choice(last)}"
                moment = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(minutes=number)
                batch.append(
                    {
                        "statement_id": statement_id,
                        "name": name,
                        "sort_key": listing.fold(name),
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
            ids = db.session.scalars(
                sa.insert(models.Signature).returning(
                    models.Signature.id, sort_by_parameter_order=True
                ),
                batch,
            )
            words = [
                {"statement_id": statement_id, "word": word, "signature_id": signature_id}
                for signature_id, person in zip(ids, batch, strict=True)
                for word in listing.name_words(person["name"])
            ]
            db.session.execute(sa.insert(models.SignatureWord), words)
        db.session.commit()
        service.recount(statement_id)  # the counts, and the state each word keeps a copy of
        # Statistics and (PostgreSQL) the visibility map index-only scans rely on, as
        # autovacuum would leave them after a while.
        analyze = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(analyze)
    return time.perf_counter() - started


def page_by_next(page: int) -> str:
    """Run inside the app root: the address "Next" on page ``page - 1`` links to (its cursor),
    or ``?page=`` on a checkout from before cursors."""
    from service import create_app
    from service.statements import service

    try:
        from service.statements.listing import public_signatories
    except ImportError:
        return f"/statements/{SLUG}?page={page}"
    with create_app().app_context():
        before = public_signatories(service.get_statement(SLUG), page - 1)
    return f"/statements/{SLUG}?after={before.after}"


def scenario(args: argparse.Namespace, database: Database) -> tuple[list[Row], list[str]]:
    app = harness.App(args.app_root)
    env = app.env(database)
    app.flask(env, "db", "upgrade")
    app.flask(env, "demo", "load")
    seconds = app.call(env, "statement.py", "load_signatures", count=args.signatures)
    harness.log(f"  {args.signatures:,} signatures in {seconds:.1f} s")
    uncached_env = dict(env, CONVOCA_PAGE_CACHE_SECONDS="0")
    page = f"/statements/{SLUG}"
    with (
        harness.Server("bare", app, "bare_app:app", env, cwd=harness.BENCH_DIR) as bare,
        harness.Server("ours", app, "wsgi:app", env) as ours,
    ):
        rows = harness.pages_vs_bare(args, ours, bare, [("statement_page", page, CACHED)])
        by_next = app.call(env, "statement.py", "page_by_next", page=1000)
        by_number = ours.final_path(f"{page}?page=1000")
        with harness.Server("uncached", app, "wsgi:app", uncached_env) as uncached:
            rows += harness.pages_vs_bare(
                args,
                uncached,
                bare,
                [
                    ("statement_search_uncached", f"{page}?q={SEARCH}", UNCACHED),
                    ("statement_page_1000_uncached", by_next, UNCACHED),
                    ("statement_page_1000_by_number_uncached", by_number, None),
                ],
            )
    for row in rows:
        row.name += f"_{database.kind}"
    notes = [
        f"{args.signatures:,} signatures; _uncached: CONVOCA_PAGE_CACHE_SECONDS=0, every "
        "request queries; page 1,000 by its cursor as 'Next' on page 999 links it, and by number"
    ]
    return rows, notes


if __name__ == "__main__":
    parser = harness.parser(__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=100_000)
    arguments = parser.parse_args()
    raise SystemExit(harness.main(scenario, arguments, "Statement page under wrk"))

"""The public event pages against a bare Flask route measured in the same run.

.venv/bin/python bench/event_page.py [--db all] [--duration 10] [--json] [--app-root PATH]
"""

from __future__ import annotations

import argparse

import harness
from harness import Database, Row

SLUG = "bolivia-people-power-hope-solidarity"  # service.demo.DEMO_EVENT_SLUG
TARGET = 0.3
PAGES = [
    ("event_page", f"/events/{SLUG}", TARGET),
    ("event_list", "/", TARGET),
    ("event_ics", f"/events/{SLUG}.ics", TARGET),
]


def scenario(args: argparse.Namespace, database: Database) -> tuple[list[Row], list[str]]:
    app = harness.App(args.app_root)
    env = app.env(database)
    app.flask(env, "db", "upgrade")
    app.flask(env, "demo", "load")
    with (
        harness.Server("ours", app, "wsgi:app", env) as ours,
        harness.Server("bare", app, "bare_app:app", env, cwd=harness.BENCH_DIR) as bare,
    ):
        rows = harness.pages_vs_bare(args, ours, bare, PAGES)
    suffix = f"_{database.kind}"
    for row in rows:
        row.name += suffix
    return rows, ["baseline: the bare Flask route measured just before and just after each row"]


if __name__ == "__main__":
    arguments = harness.parser(__doc__.split("\n\n")[0]).parse_args()
    raise SystemExit(harness.main(scenario, arguments, "Event pages under wrk"))

"""Browser tests: the real app served by gunicorn, driven with Playwright and Debian's Chromium.

For each database backend (see ``database_backend`` in tests/conftest.py) the session gets a
fresh database, migrated with ``flask db upgrade`` and filled with ``flask demo load``, served by
``gunicorn -w 2`` on a free loopback port. A failing test that uses ``page`` leaves a screenshot
in tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from service import create_app
from tests.conftest import close_database, make_database
from tests.mail.fixtures import SMTPSink, free_port, smtp_config
from tests.server import gunicorn, run_flask, server_env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SECRET_KEY = "e2e-test-secret-key-not-for-production"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

_call_report = pytest.StashKey[pytest.TestReport]()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, kept off the network (``playwright install`` does not work here)."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A British English visitor, whatever the machine's own locale is."""
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


@dataclass(frozen=True)
class LiveDatabase:
    url: str
    env: dict[str, str]  # what the server and its ``flask`` commands run with


@pytest.fixture(scope="session")
def live_database(
    database_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveDatabase]:
    """A fresh database on ``database_backend``, migrated, with the demo content loaded."""
    tmp_dir = tmp_path_factory.mktemp(f"live-{database_backend}")
    database = make_database(database_backend, tmp_dir)
    try:
        instance_path = tmp_dir / "instance"
        instance_path.mkdir()
        # Pages fresh on every visit: journeys check what they just changed. Every journey logs
        # in from 127.0.0.1, more than 30 an hour: the login limit itself is tested in
        # tests/organisers/test_login.py.
        env = server_env(
            database.url,
            instance_path,
            SECRET_KEY=SECRET_KEY,
            PAGE_CACHE_SECONDS="0",
            LOGIN_RATE_LIMIT="1000 per minute",
        )
        run_flask(["db", "upgrade"], env)
        run_flask(["demo", "load"], env)
        yield LiveDatabase(database.url, env)
    finally:
        database.drop()


@pytest.fixture(scope="session")
def live_server(
    live_database: LiveDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL (no trailing slash) of the app served by gunicorn on ``live_database``."""
    with gunicorn(live_database.env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as url:
        yield url


@pytest.fixture(scope="session")
def mailbox() -> Iterator[SMTPSink]:
    """Where the journeys' mail arrives: a real SMTP server on loopback."""
    sink = SMTPSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def live_app(live_database: LiveDatabase, live_server: str, mailbox: SMTPSink) -> Iterator[Flask]:
    """The same app in this process, on the served database: to set up what a journey needs
    (a registration, a mail) the way the service functions do, to send the mail the server
    queued (as the scheduler would) and to check what it did."""
    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": live_database.url,
            "PUBLIC_URL": live_server,
            **smtp_config(mailbox),
        }
    )
    yield app
    close_database(app)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Any:
    """Keep the call phase's report on the item for ``_screenshot_on_failure``."""
    report = yield
    if report.when == "call":
        item.stash[_call_report] = report
    return report


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed test that uses ``page``, save what the browser showed."""
    if "page" not in request.fixturenames:
        yield
        return
    # Set ``page`` up first, so that it is still open when this fixture is torn down.
    page = request.getfixturevalue("page")
    yield
    report = request.node.stash.get(_call_report, None)
    if report is None or not report.failed:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.\[\]-]+", "_", request.node.name)
    path = ARTIFACTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as error:  # a crashed or closed page must not hide the real failure
        sys.stderr.write(f"\ncould not save a screenshot of {request.node.nodeid}: {error}\n")
    else:
        sys.stderr.write(f"\nscreenshot of the failed test: {path}\n")

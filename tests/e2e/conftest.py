"""Browser tests: the real app served by gunicorn, driven with Playwright and Debian's Chromium.

For each database backend (see ``database_backend`` in tests/conftest.py) the session gets a
fresh database, migrated with ``flask db upgrade`` and filled with ``flask demo load``, served by
``gunicorn -w 2`` on a free loopback port. A failing test that uses ``page`` leaves a screenshot
in tests/e2e/artifacts/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service import create_app
from service.extensions import db
from tests.conftest import make_database
from tests.mail.fixtures import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
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
SERVER_START_TIMEOUT = 30.0  # seconds
COMMAND_TIMEOUT = 120.0  # seconds, for each ``flask`` command

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


def _command(name: str) -> list[str]:
    """``name`` from the running interpreter's environment (the venv), else ``python -m``."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", name]


def _gunicorn_options() -> list[str]:
    """No control socket: gunicorn 25+ opens one at ``~/.gunicorn/gunicorn.ctl`` by default,
    the same path for every server, so parallel test servers (and any gunicorn the developer
    runs) would replace, then delete, each other's socket."""
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return []
    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def _server_env(database_url: str, instance_path: Path) -> dict[str, str]:
    # Nothing from the developer's own configuration leaks in (CONVOCA_PUBLIC_URL among it).
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOCA_")}
    env.pop("FLASK_DEBUG", None)
    env.update(
        CONVOCA_SECRET_KEY="e2e-test-secret-key-not-for-production",
        CONVOCA_INSTANCE_PATH=str(instance_path),
        DATABASE_URL=database_url,
        FLASK_APP="wsgi",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run_flask(args: list[str], env: dict[str, str]) -> None:
    command = [*_command("flask"), *args]
    result = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited with {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}",
            pytrace=False,
        )


def _wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            last_error = error
        time.sleep(0.2)
    state = (
        f"exited with {server.returncode}"
        if server.poll() is not None
        else f"did not answer within {SERVER_START_TIMEOUT:.0f}s (last error: {last_error})"
    )
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    pytest.fail(
        f"gunicorn at {url} {state}\ngunicorn stderr:\n{log.read_text(errors='replace')}",
        pytrace=False,
    )


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
        env = _server_env(database.url, instance_path)
        _run_flask(["db", "upgrade"], env)
        _run_flask(["demo", "load"], env)
        yield LiveDatabase(database.url, env)
    finally:
        database.drop()


@pytest.fixture(scope="session")
def live_server(
    live_database: LiveDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL (no trailing slash) of the app served by gunicorn on ``live_database``."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [
                *_command("gunicorn"),
                *_gunicorn_options(),
                *("-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"),
            ],
            cwd=PROJECT_ROOT,
            env=live_database.env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    _wait_until_serving(base_url + "/", server, log)
    try:
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def live_app(live_database: LiveDatabase, live_server: str) -> Iterator[Flask]:
    """The same app in this process, on the served database: to set up what a journey needs
    (a registration, a mail) the way the service functions do, and to check what it did."""
    app = create_app(
        {
            "SECRET_KEY": live_database.env["CONVOCA_SECRET_KEY"],
            "DATABASE_URL": live_database.url,
            "PUBLIC_URL": live_server,
            "MAIL_BACKEND": "memory",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


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

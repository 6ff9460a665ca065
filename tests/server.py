"""Serving the real app for tests that need real HTTP: gunicorn on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.mail.fixtures import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT = 30.0  # seconds
COMMAND_TIMEOUT = 120.0  # seconds, for each ``flask`` command


def flask_command(name: str) -> list[str]:
    """``name`` from the running interpreter's environment (the venv), else ``python -m``."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", name]


def gunicorn_options() -> list[str]:
    """No control socket: gunicorn 25+ opens one at ``~/.gunicorn/gunicorn.ctl`` by default,
    the same path for every server, so parallel test servers (and any gunicorn the developer
    runs) would replace, then delete, each other's socket."""
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return []
    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def server_env(database_url: str, instance_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a served app and its ``flask`` commands: nothing from the developer's
    own configuration leaks in; ``settings`` are CONVOCA_* variables to add. CONVOCA_PUBLIC_URL
    is a placeholder here: ``gunicorn`` sets the address it serves on."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOCA_")}
    env.pop("FLASK_DEBUG", None)
    env.update(
        CONVOCA_SECRET_KEY="test-server-secret-key",
        CONVOCA_INSTANCE_PATH=str(instance_path),
        CONVOCA_PUBLIC_URL="http://127.0.0.1",
        DATABASE_URL=database_url,
        FLASK_APP="wsgi",
        PYTHONUNBUFFERED="1",
    )
    env.update({f"CONVOCA_{name}": value for name, value in settings.items()})
    return env


def run_flask(args: list[str], env: dict[str, str]) -> None:
    command = [*flask_command("flask"), *args]
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


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 2) -> Iterator[str]:
    """Serve ``wsgi:app`` with ``env``; yields the base URL (no trailing slash), which is also
    the served app's PUBLIC_URL: the links it makes lead back to it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**env, "CONVOCA_PUBLIC_URL": base_url}
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [
                *flask_command("gunicorn"),
                *gunicorn_options(),
                *("-w", str(workers), "-b", f"127.0.0.1:{port}", "wsgi:app"),
            ],
            cwd=PROJECT_ROOT,
            env=env,
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

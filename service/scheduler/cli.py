"""``flask scheduler run``: the sweep and the dispatcher as a process of their own."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

from service.scheduler import service

scheduler_cli = AppGroup("scheduler", help="Run reminders and mail delivery.")
log = logging.getLogger(__name__)


@scheduler_cli.command("run")
def run_command() -> None:
    """Sweep reminders every minute and send mail every few seconds, until stopped.

    SIGTERM (systemd, containers) and SIGINT (Ctrl+C) stop it cleanly: the message being sent
    goes, the rest wait for the next dispatcher, and it exits 0. Safe to run on several hosts
    at once: the database hands each message to one of them.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if in_process := app.extensions.pop("scheduler", None):
        in_process.shutdown(wait=False)  # this process runs the blocking one instead
    received: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    # Installed whatever was inherited: a process started in the background (nohup, setsid,
    # many CI runners) begins with SIGINT ignored, and Python's default for SIGTERM is to die
    # at once, mid-send.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    click.echo("scheduler running: Ctrl+C or SIGTERM to stop")
    service.run_until(app, lambda: bool(received))
    click.echo(f"scheduler stopped ({signal.Signals(received[0]).name})")

"""``flask scheduler run``: the sweep and the dispatcher as a process of their own."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from service.scheduler import service

scheduler_cli = AppGroup("scheduler", help="Run reminders and mail delivery.")


@scheduler_cli.command("run")
def run_command() -> None:
    """Sweep reminders every minute and send mail every few seconds, until stopped.

    Safe to run on several hosts at once: the database hands each message to one of them.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if in_process := app.extensions.pop("scheduler", None):
        in_process.shutdown(wait=False)  # this process runs the blocking one instead
    click.echo("scheduler running: Ctrl+C to stop")
    try:
        service.run_blocking(app)
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped")

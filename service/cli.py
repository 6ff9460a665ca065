"""Command groups: ``flask events …``, ``flask demo …``, ``flask statements …`` and the rest."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from service import demo
from service.events.cli import events_cli
from service.mail.cli import mail_cli
from service.ops.cli import doctor_command
from service.organisers.cli import organisers_cli, retention_cli
from service.reminders.cli import reminders_cli
from service.scheduler.cli import scheduler_cli
from service.signatories.cli import statements_cli

demo_cli = AppGroup("demo", help="Demo content for a first look at Convoca.")


@demo_cli.command("load")
def load_demo_command() -> None:
    """Load (or refresh) the demo events; safe to run again."""
    for line in demo.load_demo(date.today()):
        click.echo(line)


def init_app(app: Flask) -> None:
    app.cli.add_command(events_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(doctor_command)
    app.cli.add_command(mail_cli)
    app.cli.add_command(organisers_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(statements_cli)

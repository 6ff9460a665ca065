"""Command groups: ``flask events …``, ``flask demo …``, ``flask statements …`` and the rest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from service import backup, demo
from service.audit.cli import audit_cli
from service.db import utc_now
from service.events.cli import events_cli
from service.followups.cli import followups_cli
from service.mail.cli import mail_cli
from service.ops.cli import doctor_command
from service.organisers.cli import organisers_cli
from service.registration.cli import retention_cli
from service.reminders.cli import reminders_cli
from service.scheduler.cli import scheduler_cli
from service.statements.cli import statements_cli

demo_cli = AppGroup("demo", help="Demo content for a first look at Convoca.")


@demo_cli.command("load")
def load_demo_command() -> None:
    """Load (or refresh) the demo events; safe to run again."""
    for line in demo.load_demo(date.today()):
        click.echo(line)


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Check the copy at PATH instead.")
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="With PATH a folder: keep only this many of its backups, the newest.",
)
@with_appcontext
def backup_command(path: Path, check_only: bool, keep: int | None) -> None:
    """Copy the SQLite database to PATH (a new file, or a folder) while the site runs, then
    check the copy; with --check, check an existing copy. Exits non-zero on any failure."""
    if not check_only:
        try:
            path = backup.backup_database(path, utc_now(), keep=keep)
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"wrote {path}")
    checks = backup.check_backup(path)
    for check in checks:
        click.echo(f"{'ok' if check.ok else 'fail':4}  {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(events_cli)
    app.cli.add_command(followups_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(doctor_command)
    app.cli.add_command(mail_cli)
    app.cli.add_command(organisers_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(statements_cli)

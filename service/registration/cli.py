"""``flask retention apply``: remove attendees' personal data after their events."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from service.db import utc_now
from service.registration import retention
from service.statements.service import purge_unconfirmed

retention_cli = AppGroup("retention", help="Removing attendees' personal data after events.")


@retention_cli.command("apply")
def apply_retention_command() -> None:
    """Remove the personal data of every event whose retention period has passed, and
    signatures never confirmed (what the nightly job does)."""
    done = retention.apply_retention(utc_now())
    for event in done:
        click.echo(f"removed attendees' personal data of {event.slug}")
    purged = purge_unconfirmed(utc_now())
    if purged:
        click.echo(f"deleted {purged} signature(s) never confirmed")
    if not done and not purged:
        click.echo("nothing to remove")

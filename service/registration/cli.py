"""``flask retention apply``: remove attendees' personal data after their events, and audit
entries past ``AUDIT_RETENTION_DAYS``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from service.audit import service as audit
from service.db import utc_now
from service.registration import retention
from service.statements.service import purge_unconfirmed

retention_cli = AppGroup("retention", help="Removing attendees' personal data after events.")


@retention_cli.command("apply")
def apply_retention_command() -> None:
    """Remove the personal data of every event whose retention period has passed, and
    signatures never confirmed, and audit entries older than AUDIT_RETENTION_DAYS (what the
    nightly job does)."""
    done = retention.apply_retention(utc_now())
    for event in done:
        click.echo(f"removed attendees' personal data of {event.slug}")
    purged = purge_unconfirmed(utc_now())
    if purged:
        click.echo(f"deleted {purged} signature(s) never confirmed")
    forgotten = audit.purge_older_than(int(current_app.config["AUDIT_RETENTION_DAYS"]), utc_now())
    if forgotten:
        click.echo(f"deleted {forgotten} audit entry(ies) past their retention period")
    if not done and not purged and not forgotten:
        click.echo("nothing to remove")

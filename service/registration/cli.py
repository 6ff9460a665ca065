"""``flask retention apply``: remove attendees' personal data after their events, audit
entries past ``AUDIT_RETENTION_DAYS`` and images nothing uses."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from service.audit import service as audit
from service.db import utc_now
from service.media.service import forget_unused_images
from service.registration import retention
from service.statements.service import purge_unconfirmed

retention_cli = AppGroup("retention", help="Removing attendees' personal data after events.")


@retention_cli.command("apply")
def apply_retention_command() -> None:
    """Remove the personal data of every event whose retention period has passed, and
    signatures never confirmed, audit entries older than AUDIT_RETENTION_DAYS, and images
    nothing uses (what the nightly job does)."""
    done = retention.apply_retention(utc_now())
    for event in done:
        click.echo(f"removed attendees' personal data of {event.slug}")
    purged = purge_unconfirmed(utc_now())
    if purged:
        click.echo(f"deleted {purged} signature(s) never confirmed")
    forgotten = audit.purge_older_than(int(current_app.config["AUDIT_RETENTION_DAYS"]), utc_now())
    if forgotten:
        click.echo(f"deleted {forgotten} audit entry(ies) past their retention period")
    unused = forget_unused_images(utc_now())
    if unused:
        click.echo(f"deleted {unused} image(s) nothing uses")
    if not done and not purged and not forgotten and not unused:
        click.echo("nothing to remove")

"""``flask audit list``: the audit record, newest first, one line per entry."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from service.audit import service

audit_cli = AppGroup("audit", help="The record of who did what in the organisers' area.")


@audit_cli.command("list")
@click.option("--limit", type=click.IntRange(1, service.MAX_LIMIT), default=50, show_default=True)
@click.option("--action", default="", help="Only this action (e.g. attendees.export, login).")
@click.option("--account", default="", help="Only entries of this account (its email).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only from this day (UTC).")
def list_command(limit: int, action: str, account: str, since: datetime | None) -> None:
    """Print the newest entries: time (UTC), account, action, event or statement, detail."""
    filters = service.AuditFilter(
        account=account, action=action, since=since.replace(tzinfo=UTC) if since else None
    )
    for entry in service.list_entries(filters, limit=limit):
        actor = entry.actor or "-"
        click.echo(
            f"{entry.at.astimezone(UTC).isoformat()}  {actor}  {entry.action}"
            f"  {entry.subject or '-'}  {entry.detail}"
        )

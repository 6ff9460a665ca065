"""``flask mail send-due|status|retry-failed``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from service.db import utc_now
from service.mail import service

mail_cli = AppGroup("mail", help="The outbox: send what is due, see how it went.")


@mail_cli.command("send-due")
def send_due_command() -> None:
    """Send every message that is due (one pass of the dispatcher)."""
    result = service.dispatch_due(utc_now())
    click.echo(
        f"sent {result.sent}, retrying later {result.retrying}, failed {result.failed}, "
        f"not sent (unsubscribed) {result.unsubscribed}"
    )
    for error in result.errors:
        click.echo(f"  {error}", err=True)


@mail_cli.command("status")
def status_command() -> None:
    """Messages by status and kind, and the latest failures with the relay's reply."""
    status = service.mail_status()
    if not status.counts:
        click.echo("the outbox is empty")
    for (state, kind), total in sorted(status.counts.items()):
        click.echo(f"{state:8} {kind:18} {total}")
    if status.recent_failures:
        click.echo("\nrecent failures:")
    for message in status.recent_failures:
        click.echo(
            f"  {message.recipient} [{message.kind}] after {message.attempts} attempt(s): "
            f"{message.last_error}"
        )


@mail_cli.command("retry-failed")
def retry_failed_command() -> None:
    """Queue every failed message again, with fresh attempts (not those to people who
    unsubscribed)."""
    click.echo(f"{service.retry_failed(utc_now())} message(s) queued again")

"""``flask reminders sweep|upcoming``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from service.db import utc_now
from service.events import service as events
from service.reminders import service

reminders_cli = AppGroup("reminders", help="Reminders before each meeting.")


@reminders_cli.command("sweep")
def sweep_command() -> None:
    """Queue every reminder that is due now (one pass of the sweep)."""
    click.echo(f"queued {service.sweep_reminders(utc_now())} reminder(s)")


@reminders_cli.command("upcoming")
@click.argument("slug")
def upcoming_command(slug: str) -> None:
    """What reminders the event SLUG sends, to whom and when (in the event's zone)."""
    event = events.get_event(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    planned = service.upcoming_reminders(event, utc_now())
    if not planned:
        click.echo("no reminders: nobody registered and no speaker has an email address")
    for message in planned:
        when = message.due_at.astimezone(event.zone).strftime("%a %d %b %Y %H:%M %Z")
        who = "attendee" if message.kind == "reminder" else "speaker"
        click.echo(f"{when}  {message.status:9}  {who:8}  {message.name} <{message.recipient}>")

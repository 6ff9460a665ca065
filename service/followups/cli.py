"""``flask followups send-due|show``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from service.db import utc_now
from service.events import service as events
from service.events.timing import format_moment
from service.followups import service

followups_cli = AppGroup("followups", help="Follow-ups after each meeting.")


@followups_cli.command("send-due")
def send_due_command() -> None:
    """Queue every follow-up whose time has come (what the scheduler does every minute)."""
    click.echo(f"queued {service.send_due(utc_now())} follow-up message(s)")


@followups_cli.command("show")
@click.argument("slug")
def show_command(slug: str) -> None:
    """When the follow-up of the event SLUG goes (in the event's zone), or went, and to how
    many of those who attended and who did not."""
    event = events.get_event(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    follow_up = service.get_follow_up(event.id)
    if follow_up is None:
        click.echo("no follow-up written yet")
        return
    if follow_up.sent_at is not None:
        when = format_moment(follow_up.sent_at, event.zone)
        click.echo(f"sent {when} to {follow_up.recipients} person(s)")
    else:
        when = format_moment(max(follow_up.send_at, event.ends_at), event.zone)
        click.echo(f"will be sent {when} ({event.timezone})")
    sizes = service.audience_sizes(event)
    click.echo(f"attended: {sizes.attended}, did not attend: {sizes.missed}")

"""``flask organisers create|list|disable`` and ``flask events export``."""

from __future__ import annotations

import sys
from typing import IO

import click
from flask.cli import AppGroup

from service.db import utc_now
from service.events import service as events
from service.organisers import export, retention, service
from service.statements.service import purge_unconfirmed

organisers_cli = AppGroup("organisers", help="Organiser accounts.")


@organisers_cli.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="May manage other organisers' accounts.")
@click.option("--name", default="", help="Shown in the organisers' area.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(email: str, admin: bool, name: str, password_stdin: bool) -> None:
    """Create an organiser account for EMAIL (asks for the password)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        organiser = service.create_organiser(email, password, name=name, admin=admin)
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {'admin' if organiser.is_admin else 'organiser'} {organiser.email}")


@organisers_cli.command("list")
def list_command() -> None:
    """Every organiser account."""
    for organiser in service.list_organisers():
        flags = ", ".join(
            flag
            for flag, on in (("admin", organiser.is_admin), ("disabled", not organiser.active))
            if on
        )
        click.echo(f"{organiser.email}{f' ({flags})' if flags else ''}")


@organisers_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable the account for EMAIL and end its sessions."""
    try:
        service.disable_organiser(email)
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"disabled {email}")


def write_export(slug: str, output: IO[bytes], columns: str | None, bom: bool) -> None:
    """Write the attendees of event SLUG as CSV (every column unless --columns)."""
    event = events.get_event(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    try:
        chosen = export.choose_columns(event, columns.split(",") if columns else None)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    total = service.attendee_counts(event.id)
    rows = 0
    with click.progressbar(
        length=total.registered + total.waiting + total.cancelled,
        label=f"exporting {slug}",
        file=sys.stderr,
    ) as progress:

        def count(written: int) -> None:
            nonlocal rows
            rows += written
            progress.update(written)

        chunks = export.export_attendees(
            event, chosen, organiser_id=None, via="cli", now=utc_now(), bom=bom, on_rows=count
        )
        for chunk in chunks:
            output.write(chunk.encode("utf-8"))  # bytes: the CSV's own line ends, on any OS
    click.echo(f"exported {rows} row(s)", err=True)


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

"""``flask organisers create|list|disable|invite``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from service.db import utc_now
from service.identity import normalise_email
from service.organisers import invitations, service

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


@organisers_cli.command("invite")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["manager", "door", "viewer", "moderator"]),
    help="The role on the events (manager, door, viewer) or statements (manager, moderator).",
)
@click.option("--event", "event_slugs", multiple=True, help="An event's slug (repeatable).")
@click.option(
    "--statement", "statement_slugs", multiple=True, help="A statement's slug (repeatable)."
)
@click.option("--admin", is_flag=True, help="Sees and does everything, manages accounts.")
@click.option(
    "--language", type=click.Choice(["en", "es"]), default=None, help="The mail's language."
)
def invite_command(
    email: str,
    role: str | None,
    event_slugs: tuple[str, ...],
    statement_slugs: tuple[str, ...],
    admin: bool,
    language: str | None,
) -> None:
    """Mail EMAIL an invitation to an account with ROLE on the events and statements given.
    Prints no link: only the invitee gets it."""
    try:
        event_roles, statement_roles = invitations.roles_by_slug(role, event_slugs, statement_slugs)
        invitations.invite(
            email,
            invited_by=None,
            is_admin=admin,
            event_roles=event_roles,
            statement_roles=statement_roles,
            now=utc_now(),
            language=language or "",
        )
    except invitations.InvitationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"invitation for {normalise_email(email)} queued; the link goes by mail only")

"""``flask organisers create|list|disable``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from service.organisers import service

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

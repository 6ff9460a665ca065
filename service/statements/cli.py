"""``flask statements list|export|purge-unconfirmed``."""

from __future__ import annotations

from typing import IO

import click
from flask.cli import AppGroup

from service.audit import service as audit
from service.csv_export import write_with_progress
from service.db import utc_now
from service.statements import export, moderation, service
from service.statements.models import SignatureStatus

statements_cli = AppGroup("statements", help="Solidarity statements and their signatures.")


@statements_cli.command("list")
def list_command() -> None:
    """Every statement, with its counts."""
    for statement in service.list_statements():
        counts = moderation.signature_counts(statement.id)
        click.echo(
            f"{statement.slug}\t{statement.status.value}\t{counts['approved']} counted\t"
            f"{counts['awaiting_approval']} awaiting approval\t{counts['unconfirmed']} unconfirmed"
        )


@statements_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("wb", lazy=True), default="-")
@click.option("--columns", help=f"Comma-separated, from: {', '.join(export.COLUMN_NAMES)}")
@click.option("--bom", is_flag=True, help="Start with a byte-order mark, for Excel.")
def export_command(slug: str, output: IO[bytes], columns: str | None, bom: bool) -> None:
    """Write the signatures of statement SLUG as CSV, with a progress bar on stderr."""
    statement = service.get_statement(slug)
    if statement is None:
        raise click.ClickException(f"no statement with slug {slug!r}")
    try:
        chosen = export.choose_columns(columns.split(",") if columns else None)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    audit.record(
        "signatures.export",
        None,
        statement=statement,
        detail="cli; columns: " + ", ".join(c.name for c in chosen),
    )
    rows = write_with_progress(
        output,
        sum(moderation.signature_counts(statement.id)[s.value] for s in SignatureStatus),
        f"exporting {slug}",
        lambda on_rows: export.export_signatures(
            statement, chosen, organiser_id=None, via="cli", now=utc_now(), bom=bom, on_rows=on_rows
        ),
    )
    click.echo(f"exported {rows} row(s)", err=True)


@statements_cli.command("purge-unconfirmed")
def purge_command() -> None:
    """Delete signatures never confirmed within UNCONFIRMED_SIGNATURE_DAYS (the nightly job
    does it too)."""
    click.echo(f"deleted {service.purge_unconfirmed(utc_now())} unconfirmed signature(s)")

"""``flask events dump|import``: copy events, or bring them from another tool, as JSON."""

from __future__ import annotations

import json
from typing import IO

import click
from flask.cli import AppGroup

from service.events import service
from service.events.schema import EventDataError

events_cli = AppGroup("events", help="Import and dump events as JSON.")


@events_cli.command("dump")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
def dump_command(slug: str, output: IO[str]) -> None:
    """Write the event SLUG as JSON, private fields included (joining link, emails)."""
    event = service.get_event(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    json.dump(service.dump_event(event), output, ensure_ascii=False, indent=2)
    output.write("\n")


@events_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_command(file: IO[str]) -> None:
    """Create or update events from FILE (one JSON object or a list), matched by slug."""
    try:
        document = json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not valid JSON: {error}") from None
    try:
        results = service.import_events(document)
    except EventDataError as error:
        raise click.ClickException(
            "nothing was imported:\n" + "\n".join(f"  - {problem}" for problem in error.problems)
        ) from None
    for event, created in results:
        click.echo(f"{'created' if created else 'updated'} {event.slug}")

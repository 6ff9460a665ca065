"""``flask events dump|import``: copy events, or bring them from another tool, as JSON;
``flask events duplicate``: draft copies and series; ``flask events export``: an event's
attendees as CSV; ``flask events set-image``: its image."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import IO

import click
from flask.cli import AppGroup

from service.audit import service as audit
from service.csv_export import write_with_progress
from service.db import utc_now
from service.events import series, service
from service.events.schema import EventDataError
from service.media import service as media
from service.media.service import ImageChoice
from service.registration import export, roster
from service.registration import service as registration
from service.registration.export import COLUMN_NAMES

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
    """Create or update events from FILE (one JSON object or a list), matched by slug. A
    capacity below the number already confirmed is refused; a raised one fills from the
    waiting list."""
    try:
        document = json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not valid JSON: {error}") from None
    try:
        results = registration.import_events(document, utc_now())
    except EventDataError as error:
        raise click.ClickException(
            "nothing was imported:\n" + "\n".join(f"  - {problem}" for problem in error.problems)
        ) from None
    for event, created in results:
        click.echo(f"{'created' if created else 'updated'} {event.slug}")


@events_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("wb", lazy=True), default="-")
@click.option("--columns", help=f"Comma-separated, from: {', '.join(COLUMN_NAMES)}")
@click.option("--bom", is_flag=True, help="Start with a byte-order mark, for Excel.")
@click.option(
    "--access-needs",
    is_flag=True,
    help="Add each person's access needs (health data), recorded as such.",
)
def export_command(
    slug: str, output: IO[bytes], columns: str | None, bom: bool, access_needs: bool
) -> None:
    """Write the attendees of event SLUG as CSV, with a progress bar on stderr."""
    event = service.get_event(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    try:
        chosen = export.choose_columns(
            event, columns.split(",") if columns else None, include_access_needs=access_needs
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    total = roster.attendee_counts(event.id)
    audit.record(
        "attendees.export",
        None,
        event=event,
        detail="cli; columns: "
        + ", ".join(c.name for c in chosen)
        + ("; with access needs" if access_needs else ""),
    )
    rows = write_with_progress(
        output,
        total.registered + total.waiting + total.cancelled,
        f"exporting {slug}",
        lambda on_rows: export.export_attendees(
            event, chosen, organiser_id=None, via="cli", now=utc_now(), bom=bom, on_rows=on_rows
        ),
    )
    click.echo(f"exported {rows} row(s)", err=True)


@events_cli.command("duplicate")
@click.argument("slug")
@click.option(
    "--starts-at",
    required=True,
    help="ISO date and time of the (first) copy, e.g. 2027-03-04T18:30; without an offset it "
    "is read in the event's time zone.",
)
@click.option("--repeat", type=click.Choice([repeat.value for repeat in series.Repeat]))
@click.option(
    "--count", type=click.IntRange(1, series.MAX_COPIES), help="How many copies to repeat."
)
def duplicate_command(slug: str, starts_at: str, repeat: str | None, count: int | None) -> None:
    """Copy the event SLUG as a draft starting at --starts-at (people, questions, reminders;
    no registrations), or as --count drafts repeated --repeat, linked with it as a series.
    Prints the new slugs, one a line."""
    event = service.get_event(slug) if "\x00" not in slug else None  # PostgreSQL refuses NUL
    if event is None:
        raise click.UsageError(f"no event with slug {slug!r}")
    if (repeat is None) != (count is None):
        raise click.UsageError("--repeat and --count go together")
    try:
        moment = datetime.fromisoformat(starts_at)
    except ValueError:
        raise click.BadParameter(
            f"{starts_at!r} is not an ISO date and time, e.g. 2027-03-04T18:30",
            param_hint="--starts-at",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=event.zone)
    try:
        copies = series.copy_event(
            event,
            moment,
            repeat=series.Repeat(repeat) if repeat else None,
            count=count or 1,
            now=utc_now(),
        )
    except series.CopyError as error:
        raise click.UsageError(str(error)) from None
    except series.TryAgain:
        raise click.ClickException("the event is busy just now: try again") from None
    for copy in copies.events:
        audit.record("events.duplicate", None, event=copy, detail=f"cli; copy of {slug}")
        click.echo(copy.slug)
    for start in copies.moved_to_last:
        click.echo(f"note: {start.date()} is the last such weekday of its month", err=True)


class Refused(click.ClickException):
    exit_code = 2


@events_cli.command("set-image")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--alt", required=True, help="What the image shows, for people who cannot see it.")
@click.option("--alt-es", help="The same in Spanish (optional; the English is shown otherwise).")
def set_image_command(slug: str, file: str, alt: str, alt_es: str | None) -> None:
    """Give event SLUG the image in FILE (JPEG, PNG or WebP), as the organisers' form does:
    re-encoded without its metadata, at a few widths. Exit 2 on a bad file or slug."""
    event = service.get_event(slug)
    if event is None:
        raise Refused(f"no event with slug {slug!r}")
    try:
        data = Path(file).read_bytes()
    except OSError as error:
        raise Refused(f"cannot read {file}: {error.strerror}") from None
    try:
        prepared = media.prepare_image(data)
        service.set_event_image(event, ImageChoice(upload=prepared, alt=alt, alt_es=alt_es))
    except media.ImageRefused as refused:
        raise Refused(f"{file}: {refused.reason}") from None
    audit.record("events.edit", None, event=event, detail="cli; image")
    click.echo(f"{slug}: {event.image.width}×{event.image.height}, widths {event.image.widths}")

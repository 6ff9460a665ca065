"""Attendee lists as CSV, streamed row by row so memory stays flat however long the list.

Cells are written with defusedcsv, which puts a ``'`` before anything a spreadsheet would run
as a formula (``=``, ``+``, ``-``, ``@``, ``|``, ``%``): quoting alone does not stop Excel or
LibreOffice evaluating them (OWASP "CSV injection"). defusedcsv 3.0 leaves a leading tab,
carriage return or line feed alone, which OWASP lists too, so ``_defuse`` adds those.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from defusedcsv import csv
from sqlalchemy import exists, select

from service.events.models import Event, Question
from service.extensions import db
from service.organisers.service import record_export
from service.registration.models import Answer, JoinClick, Registration, RegistrationStatus

STATUS_NAMES = {
    RegistrationStatus.CONFIRMED: "registered",
    RegistrationStatus.WAITING: "waiting",
    RegistrationStatus.CANCELLED: "cancelled",
}
BATCH = 1000


CONTROL_STARTS = ("\t", "\r", "\n")


def _defuse(value: str) -> str:
    """The cases defusedcsv does not cover; it does the rest when the row is written."""
    return "'" + value if value.startswith(CONTROL_STARTS) else value


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


@dataclass(frozen=True)
class Column:
    name: str  # the header, and the name organisers tick
    personal: bool  # names a person, or says something about them only they should
    value: Callable[[Any, dict[int, str], ZoneInfo], str]  # (row, its answers, event's zone)
    needs_answers: bool = False


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else ""


COLUMNS = [
    Column("name", True, lambda row, answers, zone: row.name),
    Column("email", True, lambda row, answers, zone: row.email),
    Column("organisation", True, lambda row, answers, zone: row.organisation),
    Column("status", False, lambda row, answers, zone: STATUS_NAMES[row.status]),
    Column("registered_at", False, lambda row, answers, zone: _local(row.created_at, zone)),
    Column("language", False, lambda row, answers, zone: row.language),
    Column("keep_informed", False, lambda row, answers, zone: _yes_no(row.keep_informed)),
    Column(
        "keep_informed_at", False, lambda row, answers, zone: _local(row.keep_informed_at, zone)
    ),
    Column("checked_in", False, lambda row, answers, zone: _yes_no(row.checked_in_at is not None)),
    Column("checked_in_at", False, lambda row, answers, zone: _local(row.checked_in_at, zone)),
    Column("joined", False, lambda row, answers, zone: _yes_no(row.joined)),
    Column("cancelled_at", False, lambda row, answers, zone: _local(row.cancelled_at, zone)),
]
COLUMN_NAMES = [column.name for column in COLUMNS]


def answer_column(question: Question) -> Column:
    """A column for one of the event's own questions, headed with its (English) label."""
    return Column(
        f"q{question.id}: {question.label}",
        True,
        lambda row, answers, zone: answers.get(question.id, ""),
        needs_answers=True,
    )


def columns_for(event: Event) -> list[Column]:
    """Every column an export of this event can have: the standard ones, then its questions."""
    return [*COLUMNS, *(answer_column(question) for question in event.questions)]


def choose_columns(event: Event, names: list[str] | None) -> list[Column]:
    """The columns asked for, in the standard order; all of them when none are named."""
    available = columns_for(event)
    if not names:
        return available
    known = {column.name for column in available}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(unknown)}; choose from {sorted(known)}")
    return [column for column in available if column.name in names]


def export_filename(event: Event, now: datetime) -> str:
    return f"{event.slug}-attendees-{now.astimezone(event.zone):%Y-%m-%d}.csv"


def export_attendees(
    event: Event,
    columns: list[Column],
    *,
    organiser_id: int | None,
    via: str,
    now: datetime,
    bom: bool = False,
    on_row: Callable[[], None] = lambda: None,
) -> Iterator[str]:
    """``stream_attendees``, recorded as an export (who, when, which event, how many rows)
    however far it gets: a download cut short has still sent personal data."""
    event_id, names, rows = event.id, [column.name for column in columns], 0

    def count() -> None:
        nonlocal rows
        rows += 1
        on_row()

    try:
        yield from stream_attendees(event, columns, bom=bom, on_row=count)
    finally:
        record_export(organiser_id, event_id, names, rows, via, now)


def stream_attendees(
    event: Event,
    columns: list[Column],
    *,
    bom: bool = False,
    on_row: Callable[[], None] = lambda: None,
) -> Iterator[str]:
    """The CSV, a chunk at a time: the header, then about a thousand rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write("\ufeff")
    writer.writerow([column.name for column in columns])
    query = (
        select(
            Registration.id,
            Registration.name,
            Registration.email,
            Registration.organisation,
            Registration.status,
            Registration.created_at,
            Registration.language,
            Registration.keep_informed,
            Registration.keep_informed_at,
            Registration.checked_in_at,
            Registration.cancelled_at,
            exists().where(JoinClick.registration_id == Registration.id).label("joined"),
        )
        .where(Registration.event_id == event.id)
        .order_by(Registration.id)
        .execution_options(yield_per=BATCH)
    )
    wants_answers = any(column.needs_answers for column in columns)
    with db.session.execute(query) as result:  # closes the server-side cursor however it ends
        yield from _write_batches(result, event, columns, writer, buffer, on_row, wants_answers)
    yield buffer.getvalue()


def _write_batches(
    result: Any,
    event: Event,
    columns: list[Column],
    writer: Any,
    buffer: io.StringIO,
    on_row: Callable[[], None],
    wants_answers: bool,
) -> Iterator[str]:
    zone = event.zone
    values = [column.value for column in columns]
    none: dict[int, str] = {}
    for batch in result.partitions(BATCH):
        answers = _answers([row.id for row in batch]) if wants_answers else {}
        for row in batch:
            given = answers.get(row.id, none)
            writer.writerow([_defuse(value(row, given, zone)) for value in values])
            on_row()
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _answers(registration_ids: list[int]) -> dict[int, dict[int, str]]:
    by_registration: dict[int, dict[int, str]] = {}
    rows = db.session.execute(
        select(Answer.registration_id, Answer.question_id, Answer.value).where(
            Answer.registration_id.in_(registration_ids)
        )
    )
    for registration_id, question_id, value in rows:
        by_registration.setdefault(registration_id, {})[question_id] = value
    return by_registration

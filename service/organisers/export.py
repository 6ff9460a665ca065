"""Attendee lists as CSV, streamed a thousand rows at a time so memory stays flat however long
the list.

Any list can be exported the same way: a ``Column`` says what to select for it and how to
write what comes back, ``select_columns`` selects them, and ``stream_csv`` turns that query
(with its WHERE and ORDER BY) into CSV chunks. Rows come as the driver's plain tuples and are
converted a column at a time, a thousand values per call, not cell by cell.

Formulas. A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, ``|`` or ``%``
as a formula, quoted or not (OWASP "CSV injection"). Every cell that can hold text someone
typed (names, emails, organisations, answers, headers) goes through defusedcsv's own escaping,
which puts a ``'`` before such a start; defusedcsv 3.0 leaves a leading tab, carriage return or
line feed alone, which OWASP lists too, so ``defuse`` adds those. Only the first character
matters to either, so a cell whose first character is none of these is written untouched
without calling defusedcsv at all (a test checks this against defusedcsv over every character).
Cells the export makes itself skip the check (``Column.defuse`` false): status words and
yes/no, which the query writes from our own words, ISO times, which begin with a digit, and
language codes, which come from our own list of languages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from defusedcsv.csv import _escape as defusedcsv_escape
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    String,
    and_,
    case,
    exists,
    select,
    type_coerce,
)

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
JOINED_ANSWERS = 50  # SQLite joins at most 64 tables: answers to later questions by subquery

CONTROL_STARTS = ("\t", "\r", "\n")  # OWASP's, which defusedcsv 3.0 leaves alone
# Every first character that defusedcsv or CONTROL_STARTS act on; anything else is left as it is.
RISKY_STARTS = frozenset("=+-@|%\t\r\n")


def defuse(value: str | None) -> str | None:
    """``value`` as a spreadsheet will show it rather than run it."""
    if not value or value[0] not in RISKY_STARTS:
        return value
    if value.startswith(CONTROL_STARTS):
        return "'" + value
    return defusedcsv_escape(value)


def defuse_all(values: Sequence[str | None]) -> list[str | None]:
    """``defuse`` over a column's values, calling it only for those that need it."""
    return [defuse(value) if value and value[0] in RISKY_STARTS else value for value in values]


def stored_time(column: ColumnElement[datetime | None]) -> ColumnElement[Any]:
    """A ``UTCDateTime`` column as the driver hands it back, for ``local_times``: SQLite's text
    (UTC, without an offset) or PostgreSQL's aware datetime. UTCDateTime's per-value conversion
    costs more than writing the cell."""
    return type_coerce(column, String)


def local_times(moments: Sequence[datetime | str | None], zone: tzinfo) -> list[str]:
    """``stored_time``'s values in ``zone``, to the second: ``2027-04-01T13:00:00+01:00``."""
    return [
        (datetime.fromisoformat(moment + "+00:00") if type(moment) is str else moment)
        .astimezone(zone)
        .isoformat(timespec="seconds")
        if moment is not None
        else ""
        for moment in moments
    ]


@dataclass(frozen=True)
class Column:
    """One column of a CSV export."""

    name: str  # the header, and the name organisers tick
    personal: bool  # names a person, or says something about them only they should
    value: ColumnElement[Any]  # what the query selects for it, once per row
    # A batch of those values as cells, given the export's time zone; None: the values as read.
    cells: Callable[[Sequence[Any], tzinfo], Sequence[Any]] | None = None
    defuse: bool = True  # may start with text someone typed: escaped as the module says
    # Tables ``value`` reads beside the query's own, each LEFT OUTER JOINed on its condition.
    joins: tuple[tuple[FromClause, ColumnElement[bool]], ...] = ()


def _by_value(names: dict[RegistrationStatus, str]) -> dict[str, str]:
    return {status.value: name for status, name in names.items()}


def _yes_no(condition: ColumnElement[Any]) -> ColumnElement[str]:
    return case((condition, "yes"), else_="no")


def _time(name: str, column: ColumnElement[datetime | None]) -> Column:
    return Column(name, False, stored_time(column), local_times, defuse=False)


def _ours(name: str, value: ColumnElement[Any]) -> Column:
    """A column of words or codes from our own lists, never anyone's typing."""
    return Column(name, False, value, defuse=False)


COLUMNS = [
    Column("name", True, Registration.name),
    Column("email", True, Registration.email),
    Column("organisation", True, Registration.organisation),
    _ours("status", case(_by_value(STATUS_NAMES), value=Registration.status)),
    _time("registered_at", Registration.created_at),
    _ours("language", Registration.language),
    _ours("keep_informed", _yes_no(Registration.keep_informed)),
    _time("keep_informed_at", Registration.keep_informed_at),
    _ours("checked_in", _yes_no(Registration.checked_in_at.is_not(None))),
    _time("checked_in_at", Registration.checked_in_at),
    _ours("joined", _yes_no(exists().where(JoinClick.registration_id == Registration.id))),
    _time("cancelled_at", Registration.cancelled_at),
]
COLUMN_NAMES = [column.name for column in COLUMNS]


def answer_column(question: Question, *, joined: bool = True) -> Column:
    """A column for one of the event's own questions, headed with its (English) label. The
    answers come by a join (cheaper), or by a subquery per row when ``joined`` is false."""
    name = f"q{question.id}: {question.label}"
    answers = Answer.__table__.alias(f"answers_{question.id}")
    given = and_(answers.c.registration_id == Registration.id, answers.c.question_id == question.id)
    if joined:
        return Column(name, True, answers.c.value, joins=((answers, given),))
    return Column(name, True, select(answers.c.value).where(given).scalar_subquery())


def columns_for(event: Event) -> list[Column]:
    """Every column an export of this event can have: the standard ones, then its questions."""
    return [
        *COLUMNS,
        *(
            answer_column(question, joined=number < JOINED_ANSWERS)
            for number, question in enumerate(event.questions)
        ),
    ]


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
    on_rows: Callable[[int], None] = lambda count: None,
) -> Iterator[str]:
    """The event's attendees in signing-up order as CSV chunks (``stream_csv``), recorded as an
    export (who, when, which event, how many rows) however far it gets: a download cut short
    has still sent personal data."""
    event_id, names, rows = event.id, [column.name for column in columns], 0

    def count(written: int) -> None:
        nonlocal rows
        rows += written
        on_rows(written)

    query = attendees_query(event_id, columns)
    try:
        yield from stream_csv(columns, query, zone=event.zone, bom=bom, on_rows=count)
    finally:
        record_export(organiser_id, event_id, names, rows, via, now)


def attendees_query(event_id: int, columns: Sequence[Column]) -> Select[Any]:
    """The columns' values for each of the event's registrations, in signing-up order."""
    query = select_columns(columns, Registration)
    return query.where(Registration.event_id == event_id).order_by(Registration.id)


def select_columns(columns: Sequence[Column], source: Any) -> Select[Any]:
    """SELECT each column's value FROM ``source`` (a model or table) and the tables the columns
    join, for ``stream_csv`` once its WHERE and ORDER BY are added."""
    query = select(*(column.value for column in columns)).select_from(source)
    for column in columns:
        for table, condition in column.joins:
            query = query.outerjoin(table, condition)
    return query


def stream_csv(
    columns: Sequence[Column],
    query: Select[Any],
    *,
    zone: tzinfo = UTC,
    bom: bool = False,
    on_rows: Callable[[int], None] = lambda count: None,
) -> Iterator[str]:
    """CSV text, a chunk at a time: the columns' names, then a line per row of ``query``, which
    selects each column's ``value`` in order (``select_columns``).

    Rows are fetched ``BATCH`` at a time (a server-side cursor on PostgreSQL), and each batch
    is one chunk, so memory stays flat. ``zone`` is the time zone the cells' times are shown
    in; ``on_rows`` is told how many rows each chunk holds.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write("\ufeff")
    writer.writerow([defuse(column.name) for column in columns])
    steps = [
        (index, column) for index, column in enumerate(columns) if column.cells or column.defuse
    ]
    statement = query.execution_options(yield_per=BATCH)
    # Core rows (tuples) rather than the ORM's; closes the server-side cursor however it ends.
    with db.session.connection().execute(statement) as result:
        for rows in result.partitions(BATCH):
            if steps:
                by_column: list[Any] = list(zip(*rows, strict=True))  # each column's values
                for index, column in steps:
                    values = by_column[index]
                    if column.cells:
                        values = column.cells(values, zone)
                    by_column[index] = defuse_all(values) if column.defuse else values
                writer.writerows(zip(*by_column, strict=True))
            else:
                writer.writerows(rows)
            on_rows(len(rows))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():  # no rows: the header alone
        yield buffer.getvalue()

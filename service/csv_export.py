"""The CSV engine every export uses (attendees, signatures): streamed a thousand rows at a
time so memory stays flat however long the list, formula-safe, and recorded as an export of
personal data (``ExportRecord``).

Any list can be exported the same way: a ``Column`` says what to select for it and how to
write what comes back, ``select_columns`` selects them, and ``stream_csv`` turns that query
(with its WHERE and ORDER BY) into CSV chunks. Rows come as the driver's plain tuples and are
converted a column at a time, a thousand values per call, not cell by cell.

Formulas. A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, ``|`` or ``%``
as a formula, quoted or not (OWASP "CSV injection"). Every row is written through defusedcsv's
``writer``, which puts a ``'`` before such a start (and leaves plain numbers such as ``-2``
alone). defusedcsv leaves a leading tab, carriage return or line feed alone, which OWASP lists
too, so ``defuse`` adds the ``'`` for those in every cell that can hold text someone typed
(names, emails, organisations, answers, headers). Cells the export makes itself skip that
check (``Column.defuse`` false): status words and yes/no, which the query writes from our own
words, ISO times, which begin with a digit, and language codes, from our own list.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import IO, TYPE_CHECKING, Any

import click
from defusedcsv import csv as defusedcsv
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    FromClause,
    Select,
    String,
    select,
    type_coerce,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, unit_of_work, utc_now
from service.extensions import db

if TYPE_CHECKING:  # the records name what was exported, from the areas above this module
    from service.events.models import Event
    from service.organisers.models import Organiser
    from service.statements.models import Statement

BATCH = 1000
CONTROL_STARTS = ("\t", "\r", "\n")  # OWASP's, which defusedcsv leaves alone


def defuse(value: str | None) -> str | None:
    """``value`` with a ``'`` before a leading tab, CR or LF (defusedcsv's writer does the rest)."""
    if value and value.startswith(CONTROL_STARTS):
        return "'" + value
    return value


def defuse_all(values: Sequence[str | None]) -> list[str | None]:
    """``defuse`` over a column's values."""
    return [defuse(value) for value in values]


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
    writer = defusedcsv.writer(buffer)
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


class ExportRecord(Base):
    """Who exported which event's attendees (or statement's signatures), when, how many rows
    and which columns."""

    __tablename__ = "export_records"
    __table_args__ = (
        CheckConstraint("(event_id IS NULL) <> (statement_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    via: Mapped[str] = mapped_column(String(20), default="web")  # web or cli
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)

    organiser: Mapped[Organiser | None] = relationship("Organiser")
    event: Mapped[Event | None] = relationship("Event")
    statement: Mapped[Statement | None] = relationship("Statement")


def stream_recorded_csv(
    columns: Sequence[Column],
    query: Select[Any],
    *,
    zone: tzinfo,
    bom: bool,
    on_rows: Callable[[int], None],
    organiser_id: int | None,
    via: str,
    now: datetime,
    event_id: int | None = None,
    statement_id: int | None = None,
) -> Iterator[str]:
    """``stream_csv``, recorded as an export of an event's attendees (``event_id``) or of a
    statement's signatures (``statement_id``): who, when, which columns, how many rows. The
    record is written however far the download gets: one cut short has still sent personal
    data."""
    rows = 0

    def count(written: int) -> None:
        nonlocal rows
        rows += written
        on_rows(written)

    try:
        yield from stream_csv(columns, query, zone=zone, bom=bom, on_rows=count)
    finally:
        with unit_of_work():
            db.session.add(
                ExportRecord(
                    organiser_id=organiser_id,
                    event_id=event_id,
                    statement_id=statement_id,
                    columns=[column.name for column in columns],
                    rows=rows,
                    via=via,
                    created_at=now,
                )
            )


def recent_exports(
    limit: int = 10, event_ids: set[int] | None = None, statement_ids: set[int] | None = None
) -> list[ExportRecord]:
    """The latest exports; of those events and statements only, when the ids are given."""
    query = select(ExportRecord)
    if event_ids is not None or statement_ids is not None:
        query = query.where(
            ExportRecord.event_id.in_(event_ids or set())
            | ExportRecord.statement_id.in_(statement_ids or set())
        )
    return list(db.session.scalars(query.order_by(ExportRecord.created_at.desc()).limit(limit)))


def write_with_progress(
    output: IO[bytes],
    total: int,
    label: str,
    chunks: Callable[[Callable[[int], None]], Iterable[str]],
) -> int:
    """For the ``flask … export`` commands: write the CSV that ``chunks(on_rows)`` yields to
    ``output`` as UTF-8 bytes (the CSV's own line ends, on any OS), with a progress bar of
    ``total`` rows on stderr. Returns how many rows were written."""
    rows = 0
    with click.progressbar(length=total, label=label, file=sys.stderr) as progress:

        def count(written: int) -> None:
            nonlocal rows
            rows += written
            progress.update(written)

        for chunk in chunks(count):
            output.write(chunk.encode("utf-8"))
    return rows

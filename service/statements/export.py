"""A statement's signatures as CSV, on the CSV engine every export uses: streamed, formula-safe
(``service.csv_export``) and recorded as an export of personal data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, select

from service.csv_export import Column, local_times, stored_time, stream_recorded_csv
from service.statements.models import Signature, SignatureStatus, Statement

STATUS_NAMES = {status.value: status.value for status in SignatureStatus}


def _ours(name: str, value: Any) -> Column:
    """Words and codes from our own lists, never anyone's typing: no formula check."""
    return Column(name, False, value, defuse=False)


def _yes_no(name: str, condition: Any) -> Column:
    return _ours(name, case((condition, "yes"), else_="no"))


def _time(name: str, column: Any) -> Column:
    return Column(name, False, stored_time(column), local_times, defuse=False)


COLUMNS = [
    Column("name", True, Signature.name),
    Column("email", True, Signature.email),
    Column("affiliation", True, Signature.affiliation),
    Column("town", True, Signature.town),
    Column("country", True, Signature.country),
    _ours("status", case(STATUS_NAMES, value=Signature.status)),
    _yes_no("show_name", Signature.show_name),
    _yes_no("featured", Signature.featured),
    _ours("language", Signature.language),
    _yes_no("keep_informed", Signature.keep_informed),
    _time("keep_informed_at", Signature.keep_informed_at),
    _time("signed_at", Signature.created_at),
    _time("confirmed_at", Signature.confirmed_at),
]
COLUMN_NAMES = [column.name for column in COLUMNS]


def choose_columns(names: list[str] | None) -> list[Column]:
    """The columns asked for, in the standard order; all of them when none are named."""
    if not names:
        return COLUMNS
    unknown = sorted(set(names) - set(COLUMN_NAMES))
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(unknown)}; choose from {COLUMN_NAMES}")
    return [column for column in COLUMNS if column.name in names]


def export_filename(statement: Statement, now: datetime) -> str:
    return f"{statement.slug}-signatures-{now:%Y-%m-%d}.csv"


def signatures_query(statement_id: int, columns: list[Column]) -> Select[Any]:
    return (
        select(*(column.value for column in columns))
        .select_from(Signature)
        .where(Signature.statement_id == statement_id)
        .order_by(Signature.id)
    )


def export_signatures(
    statement: Statement,
    columns: list[Column],
    *,
    organiser_id: int | None,
    via: str,
    now: datetime,
    bom: bool = False,
    on_rows: Callable[[int], None] = lambda count: None,
) -> Iterator[str]:
    """Every signature, in signing order, as CSV chunks (times in UTC), recorded as an export
    (``stream_recorded_csv``)."""
    return stream_recorded_csv(
        columns,
        signatures_query(statement.id, columns),
        zone=UTC,
        bom=bom,
        on_rows=on_rows,
        organiser_id=organiser_id,
        via=via,
        now=now,
        statement_id=statement.id,
    )

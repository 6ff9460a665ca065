"""Attendee lists as CSV, on the CSV engine (``service.csv_export``): the standard columns,
one per question of the event, and the export itself, recorded however far it gets."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, select

from service.csv_export import (
    Column,
    local_times,
    select_columns,
    stored_time,
    stream_recorded_csv,
)
from service.events.models import Event, EventFormat, Question
from service.registration import attendance, parts
from service.registration.models import Answer, JoinClick, Registration, RegistrationStatus

STATUS_NAMES = {
    RegistrationStatus.CONFIRMED: "registered",
    RegistrationStatus.WAITING: "waiting",
    RegistrationStatus.CANCELLED: "cancelled",
}
JOINED_ANSWERS = 50  # SQLite joins at most 64 tables: answers to later questions by subquery


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
    _ours("follows_language", func.coalesce(Registration.follows_language, "")),
    _ours("needs_interpretation", _yes_no(Registration.needs_interpretation)),
]


def event_columns(event: Event) -> list[Column]:
    """The standard columns that depend on the event: how each person takes part (a hybrid
    event's registrants chose; the others take part as their event does) and whether they
    attended (``attendance.attended``)."""
    [only_part, *_] = parts.parts_of(event)
    mode = Registration.mode if event.format is EventFormat.HYBRID else literal(only_part.value)
    return [_ours("mode", mode), _ours("attended", _yes_no(attendance.attended(event)))]


EVENT_COLUMN_NAMES = ("mode", "attended")
COLUMN_NAMES = [*(column.name for column in COLUMNS), *EVENT_COLUMN_NAMES]


def _codes(values: Sequence[list[str] | None], _zone: tzinfo) -> list[str]:
    return [" ".join(codes or ()) for codes in values]


# Special-category data: in an export only when asked for explicitly (``include_access_needs``),
# by whoever may see it, and the export's record then lists these columns.
ACCESS_NEED_COLUMNS = [
    Column("access_needs", True, Registration.access_needs, _codes, defuse=False),
    Column("access_needs_other", True, Registration.access_needs_other),
]
ACCESS_NEED_COLUMN_NAMES = frozenset(column.name for column in ACCESS_NEED_COLUMNS)


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
    """Every column an export of this event can have: the standard ones, then its questions
    (access needs only by ``choose_columns``' ``include_access_needs``)."""
    return [
        *COLUMNS,
        *event_columns(event),
        *(
            answer_column(question, joined=number < JOINED_ANSWERS)
            for number, question in enumerate(event.questions)
        ),
    ]


def choose_columns(
    event: Event, names: list[str] | None, *, include_access_needs: bool = False
) -> list[Column]:
    """The columns asked for, in the standard order (all of them when none are named), then
    the access needs when ``include_access_needs``: naming them is not enough."""
    available = columns_for(event)
    extra = ACCESS_NEED_COLUMNS if include_access_needs else []
    if not names:
        return [*available, *extra]
    known = {column.name for column in available}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(unknown)}; choose from {sorted(known)}")
    return [*(column for column in available if column.name in names), *extra]


def includes_access_needs(columns: Sequence[Column]) -> bool:
    return any(column.name in ACCESS_NEED_COLUMN_NAMES for column in columns)


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
    """The event's attendees in signing-up order as CSV chunks, recorded as an export
    (``stream_recorded_csv``)."""
    return stream_recorded_csv(
        columns,
        attendees_query(event.id, columns),
        zone=event.zone,
        bom=bom,
        on_rows=on_rows,
        organiser_id=organiser_id,
        via=via,
        now=now,
        event_id=event.id,
    )


def attendees_query(event_id: int, columns: Sequence[Column]) -> Select[Any]:
    """The columns' values for each of the event's registrations, in signing-up order."""
    query = select_columns(columns, Registration)
    return query.where(Registration.event_id == event_id).order_by(Registration.id)

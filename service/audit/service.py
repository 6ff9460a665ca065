"""Writing and reading the audit record. ``record`` is called by every organiser action that
changes or reveals personal data; what it is told must never be that data (no names, no
addresses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, or_, select

from service.audit.models import AuditEntry
from service.db import unit_of_work, utc_now
from service.extensions import db
from service.identity import normalise_email

if TYPE_CHECKING:
    from service.events.models import Event
    from service.organisers.models import Organiser
    from service.statements.models import Statement

# The most entries one page of the record (or one ``flask audit list``) shows.
MAX_LIMIT = 1000


def record(
    action: str,
    organiser: Organiser | None,
    *,
    event: Event | None = None,
    statement: Statement | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    """Write one entry, in the caller's unit of work if there is one, else in its own.
    ``action`` is a short dotted name (``attendees.export``, ``login.failed``); ``detail``
    says what was done in words that hold no personal data."""
    subject = event.slug if event is not None else statement.slug if statement else ""
    with unit_of_work():
        db.session.add(
            AuditEntry(
                at=now or utc_now(),
                organiser_id=organiser.id if organiser is not None else None,
                actor=organiser.email if organiser is not None else "",
                action=action,
                event_id=event.id if event is not None else None,
                statement_id=statement.id if statement is not None else None,
                subject=subject,
                detail=detail[:500],
            )
        )


@dataclass(frozen=True)
class AuditFilter:
    """What a reader of the record narrows it to; empty fields match everything. ``until`` is
    exclusive (the start of the day after the last one asked for)."""

    account: str = ""
    action: str = ""
    subject: str = ""
    since: datetime | None = None
    until: datetime | None = None


def list_entries(
    filters: AuditFilter = AuditFilter(),
    *,
    after: int | None = None,
    page: int = 1,
    limit: int = 50,
) -> list[AuditEntry]:
    """Entries newest first, at most ``limit``: those older than the entry ``after`` (a keyset
    cursor, the id of the last entry already shown), else the ``page``-th ``limit`` of them."""
    limit = min(max(limit, 1), MAX_LIMIT)
    query = _filtered(select(AuditEntry), filters).order_by(AuditEntry.id.desc()).limit(limit)
    if after is not None:
        query = query.where(AuditEntry.id < after)
    else:
        query = query.offset((max(page, 1) - 1) * limit)
    return list(db.session.scalars(query))


def count_entries(filters: AuditFilter = AuditFilter()) -> int:
    return db.session.scalar(_filtered(select(func.count(AuditEntry.id)), filters)) or 0


def _filtered(query: Select[Any], filters: AuditFilter) -> Select[Any]:
    if filters.account:
        query = query.where(AuditEntry.actor == normalise_email(filters.account))
    if filters.action:  # "attendees" matches every attendees.* action
        query = query.where(
            or_(
                AuditEntry.action == filters.action,
                AuditEntry.action.startswith(f"{filters.action}.", autoescape=True),
            )
        )
    if filters.subject:
        query = query.where(AuditEntry.subject == filters.subject)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.at < filters.until)
    return query


def purge_older_than(days: int, now: datetime) -> int:
    """Delete the entries written more than ``days`` days before ``now``; how many went."""
    with unit_of_work():
        result = db.session.execute(
            delete(AuditEntry)
            .where(AuditEntry.at < now - timedelta(days=days))
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)

"""Writing the audit record. ``record`` is called by every organiser action that changes or
reveals personal data; what it is told must never be that data (no names, no addresses)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from service.audit.models import AuditEntry
from service.db import unit_of_work, utc_now
from service.extensions import db

if TYPE_CHECKING:
    from service.events.models import Event
    from service.organisers.models import Organiser
    from service.statements.models import Statement


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

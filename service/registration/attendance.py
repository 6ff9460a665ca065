"""Who came: a confirmed registrant attended if they were checked in at the door, or used
their personal joining link while it opened the meeting (from its opening, ``JOIN_OPENS_MINUTES``
before the start, until the end)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select

from service.events.models import Event
from service.extensions import db
from service.registration import links
from service.registration.models import JoinClick, Registration, RegistrationStatus


def attended(event: Event) -> ColumnElement[bool]:
    """Whether a registration of ``event`` attended, as a condition on ``Registration``
    (for counts and exports)."""
    opens, ends = links.join_window(event)
    joined = exists().where(
        JoinClick.registration_id == Registration.id,
        JoinClick.clicked_at >= opens,
        JoinClick.clicked_at < ends,
    )
    return and_(
        Registration.status == RegistrationStatus.CONFIRMED,
        or_(Registration.checked_in_at.is_not(None), joined),
    )


def attended_ids(event: Event) -> set[int]:
    """The ids of the event's confirmed registrations that attended."""
    query = select(Registration.id).where(Registration.event_id == event.id, attended(event))
    return set(db.session.scalars(query))

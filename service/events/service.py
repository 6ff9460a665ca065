"""Event queries and the import/dump of events as JSON. Public writes are units of work
(``service.db.unit_of_work``); ``save_event`` and the helpers only flush."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, delete, func, select
from sqlalchemy.orm import selectinload

from service.db import unit_of_work
from service.events.models import (
    Event,
    EventPerson,
    EventSlug,
    EventStatus,
    Question,
    Supporter,
)
from service.events.schema import EventData, EventDataError, PersonData, parse_events
from service.extensions import db
from service.media import service as media
from service.media.service import ImageChoice
from service.text import render_markdown
from service.urls import absolute_url

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)
# Fields an import copies onto the event as they are; slug, supporters and people are matched.
COPIED_FIELDS = tuple(
    name for name in EventData.model_fields if name not in ("slug", "supporters", "people")
)
PAST_PAGE_SIZE = 20

# Fields whose change makes calendar clients replace their copy (iCalendar SEQUENCE).
CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "venue", "address", "status", "format")


def _public_events():
    return (
        select(Event)
        .where(Event.status.in_(PUBLIC_STATUSES))
        .options(
            selectinload(Event.people),
            selectinload(Event.supporters),
            selectinload(Event.questions),
        )
    )


def list_upcoming(now: datetime) -> list[Event]:
    """Published (and cancelled, so people learn of it) events not yet over, next first."""
    query = _public_events().where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    return list(db.session.scalars(query))


def list_past(now: datetime, page: int = 1) -> tuple[list[Event], bool]:
    """One page of events that have ended, latest first, and whether there is a next page."""
    query = (
        _public_events()
        .where(Event.ends_at < now)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .offset((page - 1) * PAST_PAGE_SIZE)
        .limit(PAST_PAGE_SIZE + 1)
    )
    events = list(db.session.scalars(query))
    return events[:PAST_PAGE_SIZE], len(events) > PAST_PAGE_SIZE


def get_public_event(slug: str) -> Event | None:
    return db.session.scalar(_public_events().where(Event.slug == slug))


def get_public_event_alone(slug: str) -> Event | None:
    """The public event at ``slug`` in one query: its people, supporters and questions load
    only if read (the registration form's POST and the page after it read none of them)."""
    return db.session.scalar(
        select(Event).where(Event.slug == slug, Event.status.in_(PUBLIC_STATUSES))
    )


USUAL_ZONES = ("Europe/London", "America/La_Paz")


def timezone_choices() -> list[str]:
    """Every IANA zone for the event form's list, the group's usual ones first: the zones of
    its events, most used first, then ``USUAL_ZONES``, then the rest in order."""
    used = db.session.execute(
        select(Event.timezone)
        .group_by(Event.timezone)
        .order_by(func.count().desc(), Event.timezone)
    )
    known = available_timezones()
    first = list(dict.fromkeys([zone for (zone,) in used if zone in known] + list(USUAL_ZONES)))
    return first + sorted(known.difference(first))


def current_slug(old_slug: str) -> str | None:
    """The address now of the public event that had ``old_slug`` before a rename (None for a
    draft's old address, which must not reveal the draft)."""
    return db.session.scalar(
        select(Event.slug)
        .join(EventSlug, EventSlug.event_id == Event.id)
        .where(EventSlug.slug == old_slug, Event.status.in_(PUBLIC_STATUSES))
    )


def _former_owner(slug: str) -> int | None:
    """The id of the event that had ``slug`` as an old address, if any."""
    return db.session.scalar(select(EventSlug.event_id).where(EventSlug.slug == slug))


def questions_of(slug: str) -> Sequence[Row[Any]]:
    """The event's own registration questions, in order, as rows of the columns the form
    needs (one prepared query without ORM objects, for the form's POST)."""
    return db.session.connection().execute(_QUESTIONS_OF, {"slug": slug}).all()


_QUESTIONS, _EVENTS = Question.__table__, Event.__table__
_QUESTIONS_OF = (
    select(
        _QUESTIONS.c.id,
        _QUESTIONS.c.kind,
        _QUESTIONS.c.label,
        _QUESTIONS.c.label_es,
        _QUESTIONS.c.choices,
        _QUESTIONS.c.required,
    )
    .join(_EVENTS)
    .where(_EVENTS.c.slug == bindparam("slug"))
    .order_by(_QUESTIONS.c.position)
)


def add_question(event: Event, question: Question) -> None:
    """Add ``question`` (not yet in the session) at the end of the event's form."""
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        lock_event(event)
        question.position = max((q.position for q in event.questions), default=0) + 1
        event.questions.append(question)


def remove_question(event: Event, question_id: int) -> None:
    """Take a question off the form; the answers already given go with it."""
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        lock_event(event)
        event.questions = [q for q in event.questions if q.id != question_id]


def lock_event(event: Event) -> None:
    """Read the event afresh holding its row's lock (PostgreSQL; on SQLite the unit of work
    holds the write lock), before a change that depends on what it holds now."""
    db.session.refresh(event, with_for_update=True)


def get_event(slug: str) -> Event | None:
    return db.session.scalar(select(Event).where(Event.slug == slug))


def event_id_of(slug: str) -> int | None:
    """The id of the event at ``slug``, drafts included: how the organisers' pages find the
    event their access check is about (``find_event_id``)."""
    event = get_event(slug)
    return event.id if event is not None else None


def event_or_404(slug: str) -> Event:
    """The event, drafts and all, for an organisers' page; 404 when there is none."""
    event = get_event(slug)
    if event is None:
        abort(404)
    return event


def count_events() -> int:
    return db.session.scalar(select(func.count()).select_from(Event)) or 0


def public_event_data(event: Event) -> dict[str, Any]:
    """The public face of an event: never the joining link, capacity or anyone's email."""
    return {
        "uid": event.uid,
        "slug": event.slug,
        "url": absolute_url("events.show_event", slug=event.slug),
        "ics_url": absolute_url("events.download_event_calendar", slug=event.slug),
        "title": event.title,
        "title_es": event.title_es,
        "summary": event.summary,
        "summary_es": event.summary_es,
        "description": event.description,
        "description_html": str(render_markdown(event.description)),
        "description_es": event.description_es,
        "description_es_html": str(render_markdown(event.description_es)) or None,
        "starts_at": event.starts_at.astimezone(event.zone).isoformat(),
        "ends_at": event.ends_at.astimezone(event.zone).isoformat(),
        "timezone": event.timezone,
        "extra_timezones": list(event.extra_timezones),
        "format": event.format.value,
        "venue": event.venue if event.has_venue else "",
        "address": event.address if event.has_venue else "",
        "status": event.status.value,
        "cancelled": event.is_cancelled,
        "organised_by": event.organised_by,
        "supporters": [supporter.name for supporter in event.supporters],
        "people": [
            {"name": person.name, "role": person.role.value, "affiliation": person.affiliation}
            for person in event.people
            if person.is_public  # a speaker who declined is not on the bill
        ],
    }


def dump_event(event: Event) -> dict[str, Any]:
    """The public shape plus the private fields: enough to recreate the event elsewhere."""
    data = public_event_data(event)
    data.update(
        venue=event.venue,
        address=event.address,
        join_url=event.join_url,
        capacity=event.capacity,
        online_capacity=event.online_capacity,
        waiting_list=event.waiting_list,
        registration_opens_at=_local_iso(event, event.registration_opens_at),
        registration_closes_at=_local_iso(event, event.registration_closes_at),
        attendee_reminder_offsets=list(event.attendee_reminder_offsets),
        speaker_reminder_offsets=list(event.speaker_reminder_offsets),
        speaker_arrival_minutes=event.speaker_arrival_minutes,
        speaker_notes=event.speaker_notes,
        reminder_note=event.reminder_note,
        languages=list(event.languages),
        interpretation_en=event.interpretation_en,
        interpretation_es=event.interpretation_es,
        retention_days=event.retention_days,
        people=[
            {
                "name": person.name,
                "role": person.role.value,
                "affiliation": person.affiliation,
                "email": person.email,
            }
            for person in event.people
        ],
    )
    return data


def _local_iso(event: Event, moment: datetime | None) -> str | None:
    return moment.astimezone(event.zone).isoformat() if moment else None


def import_events(document: Any) -> list[tuple[Event, bool]]:
    """Create or update events from JSON (one object or a list), matched by slug.

    Everything is validated before anything is written; returns each event and whether it is new.
    Raises ``EventDataError`` listing every problem.
    """
    parsed = parse_events(document)
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        return [_upsert_event(data) for data in parsed]


def _upsert_event(data: EventData) -> tuple[Event, bool]:
    event = get_event(data.slug)
    created = event is None
    if event is None and _former_owner(data.slug) is not None:
        raise EventDataError(
            [f"slug {data.slug!r} is an old address of another event, and redirects to it"]
        )
    if event is None:
        event = Event(slug=data.slug)
        db.session.add(event)
    _apply(event, data, created)
    return event, created


# Changes registrants are told about when the organiser ticks "notify".
NOTIFIABLE_FIELDS = ("starts_at", "ends_at", "venue", "address", "join_url", "format")


def save_event(
    original_slug: str | None,
    document: dict[str, Any],
    person_ids: Sequence[int | None] | None = None,
) -> tuple[Event, set[str]]:
    """Create (``original_slug`` None) or update one event from the organisers' form, which
    may rename it; ``person_ids`` (the form's, in the document's order) keep each person who
    they are when their name is corrected. Returns the event and which of
    ``NOTIFIABLE_FIELDS`` changed.
    Raises ``EventDataError`` with the problems by field. Only flushes: it runs inside
    ``registration.service.update_event``'s unit of work, which holds the capacity rule."""
    [data] = parse_events(document)
    event = get_event(original_slug) if original_slug else None
    if data.slug != original_slug and get_event(data.slug) is not None:
        raise EventDataError(
            [f"slug {data.slug!r} is taken"], {"slug": [_("Another event has this address.")]}
        )
    former_owner = _former_owner(data.slug)
    if former_owner is not None and (event is None or former_owner != event.id):
        raise EventDataError(
            [f"slug {data.slug!r} is an old address of another event"],
            {"slug": [_("This was another event's address, and still leads to it.")]},
        )
    created = event is None
    if event is None:
        event = Event()
        db.session.add(event)
    before = {field: getattr(event, field) for field in NOTIFIABLE_FIELDS}
    if not created and data.slug != event.slug:
        _keep_old_address(event, data.slug)
    event.slug = data.slug
    _apply(event, data, created, person_ids)
    changed = {field for field in NOTIFIABLE_FIELDS if before[field] != getattr(event, field)}
    return event, set() if created else changed


def _keep_old_address(event: Event, new_slug: str) -> None:
    """Remember the address ``event`` is leaving, so its links keep working; taking back an
    address it had before forgets that one."""
    db.session.execute(
        delete(EventSlug).where(EventSlug.event_id == event.id, EventSlug.slug == new_slug)
    )
    db.session.add(EventSlug(event_id=event.id, slug=event.slug))
    db.session.flush()


def set_status(event: Event, status: EventStatus) -> None:
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        lock_event(event)
        if event.status is not status:
            event.status = status
            event.sequence += 1


def _apply(
    event: Event, data: EventData, created: bool, person_ids: Sequence[int | None] | None = None
) -> None:
    before = {field: getattr(event, field) for field in CALENDAR_FIELDS}
    for field in COPIED_FIELDS:
        setattr(event, field, getattr(data, field))
    _sync_supporters(event, data.supporters)
    _sync_people(event, data.people, person_ids)
    if not created and before != {field: getattr(event, field) for field in CALENDAR_FIELDS}:
        event.sequence += 1
    db.session.flush()


def _sync_supporters(event: Event, names: list[str]) -> None:
    existing = {supporter.name: supporter for supporter in event.supporters}
    event.supporters = [existing.pop(name, None) or Supporter(name=name) for name in names]
    for position, supporter in enumerate(event.supporters):
        supporter.position = position


def _sync_people(
    event: Event, people: list[PersonData], person_ids: Sequence[int | None] | None = None
) -> None:
    """Update people in place, so each keeps its identity (invitation, answer, bio, photo):
    matched by ``person_ids`` where the form gives them (a corrected name), then by name (an
    import). An id that is not one of this event's people matches nobody."""
    unmatched = {person.id: person for person in event.people}
    ids = list(person_ids) if person_ids is not None else [None] * len(people)
    matched: list[EventPerson | None] = [
        unmatched.pop(person_id, None) if person_id is not None else None for person_id in ids
    ]
    for index, data in enumerate(people):
        if matched[index] is None:
            same_name = next((p for p in unmatched.values() if p.name == data.name), None)
            matched[index] = unmatched.pop(same_name.id) if same_name else EventPerson()
    event.people = [person for person in matched if person is not None]
    for position, (person, data) in enumerate(zip(event.people, people, strict=True)):
        person.position = position
        person.name = data.name
        person.role = data.role
        person.affiliation = data.affiliation
        person.email = data.email


def set_event_image(event: Event, choice: ImageChoice) -> None:
    """Give the event the image a form (or ``flask events set-image``) chose: a new one, new
    alt text, or none. One unit of work; raises ``media.ImageRefused``."""
    with unit_of_work():
        media.apply_image_choice(event, choice)

"""Copies and series of events. "Duplicate" makes one draft copy of an event with a new start;
"Repeat" makes several, weekly, fortnightly or monthly (the same weekday of the month), each
its own event with its own registrations, linked with the original as an ``EventSeries``.
The organisers' pages (``events/copies.py``) and ``flask events duplicate`` call
``copy_event``; the public side reads ``public_series`` and ``series_of``.

Times keep the event's local wall clock: 18:30 in London stays 18:30 in summer and in winter,
and the end and the registration window move by the same number of local days and hours.
"""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from service.access import service as access
from service.access.models import EventRole
from service.db import unit_of_work
from service.events.models import (
    Event,
    EventPerson,
    EventSeries,
    EventStatus,
    Question,
    Supporter,
)
from service.events.service import PUBLIC_STATUSES, lock_event
from service.extensions import db
from service.media import service as media

MAX_COPIES = 52
SLUG_LENGTH = 120  # Event.slug and EventSeries.slug

# What a copy takes from its original as it is. The times move (``MOVED_COLUMNS``); the rest
# (``FRESH_COLUMNS``) starts afresh: a new address and calendar identity, a draft. A column
# added to Event must join one of the three (tests/events/test_series.py checks).
COPIED_COLUMNS = (
    "title",
    "title_es",
    "summary",
    "summary_es",
    "description",
    "description_es",
    "timezone",
    "extra_timezones",
    "format",
    "venue",
    "address",
    "join_url",
    "capacity",
    "online_capacity",
    "waiting_list",
    "organised_by",
    "attendee_reminder_offsets",
    "speaker_reminder_offsets",
    "speaker_arrival_minutes",
    "speaker_notes",
    "reminder_note",
    "languages",
    "interpretation_en",
    "interpretation_es",
    "retention_days",
)
MOVED_COLUMNS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
FRESH_COLUMNS = (
    "id",
    "uid",
    "slug",
    "status",
    "sequence",
    "series_id",
    "image_id",  # a row of its own for the same files (media.copy_image)
    "personal_data_removed_at",
    "created_at",
    "updated_at",
)

_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}(?:-\d+)?$")


class Repeat(enum.StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"  # the same weekday of the month: the 2nd Tuesday stays the 2nd Tuesday


class CopyError(ValueError):
    """Why no copy was made (nothing is written), in words for the person who asked."""


class TryAgain(RuntimeError):
    """The original event's lock was not had in time; nothing is written."""


@dataclass(frozen=True)
class Copies:
    events: list[Event]  # the new drafts, in date order
    series: EventSeries | None  # for a repeat: the series the original and the copies are in
    moved_to_last: list[datetime]  # monthly starts on the last such weekday: no 5th one


@dataclass(frozen=True)
class SeriesPage:
    series: EventSeries
    upcoming: list[Event]
    past: list[Event]


def copy_event(
    source: Event,
    starts_at: datetime,
    *,
    repeat: Repeat | None = None,
    count: int = 1,
    created_by: int | None = None,
    now: datetime,
) -> Copies:
    """Copy ``source`` as ``count`` drafts, the first starting at ``starts_at`` (aware; its
    wall-clock time in the event's zone is kept), the others ``repeat`` apart. With
    ``repeat`` the original and the copies are one series (the original's, if it has one).
    Each copy has the source's team, and ``created_by``, an organiser's id, becomes its
    manager (copies made at the command line keep the team alone). One unit of work.
    Raises ``CopyError`` (nothing written) or ``TryAgain``."""
    if repeat is None and count != 1:
        raise CopyError(_("Say how often to repeat the event."))
    if not 1 <= count <= MAX_COPIES:
        raise CopyError(_("Make between 1 and %(most)d copies.", most=MAX_COPIES))
    if starts_at <= now:
        raise CopyError(_("The new date must be in the future."))
    zone = source.zone
    starts, moved_to_last = plan_starts(starts_at.astimezone(zone), zone, repeat, count)
    try:
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            lock_event(source)
            series = _series_for(source) if repeat is not None else None
            copies = []
            for start in starts:
                copy = _copy(source, start)
                copy.series_id = series.id if series is not None else None
                db.session.add(copy)
                db.session.flush()
                access.copy_event_team(source.id, copy.id)
                if created_by is not None:
                    access.grant_event_role(created_by, copy.id, EventRole.MANAGER)
                copies.append(copy)
    except OperationalError as error:
        raise TryAgain from error
    return Copies(copies, series, moved_to_last)


def plan_starts(
    first: datetime, zone: ZoneInfo, repeat: Repeat | None, count: int
) -> tuple[list[datetime], list[datetime]]:
    """The starts of ``count`` events from ``first`` (in ``zone``), each at its wall-clock
    time, and those of them (monthly) moved to the month's last such weekday. Raises
    ``CopyError`` for a date on which that time does not exist (the clocks skip it)."""
    days, moved = [first.date()], set()
    for step in range(1, count):
        if repeat is Repeat.MONTHLY:
            day, was_moved = same_weekday_of_month(first.date(), step)
            if was_moved:
                moved.add(day)
        else:
            day = first.date() + timedelta(weeks=step * (2 if repeat is Repeat.FORTNIGHTLY else 1))
        days.append(day)
    starts = [_wall_time(day, first.time(), zone) for day in days]
    return starts, [start for start in starts if start.date() in moved]


def same_weekday_of_month(anchor: date, months_later: int) -> tuple[date, bool]:
    """The day ``months_later`` months after ``anchor`` that is the same weekday of its month
    (the 2nd Tuesday gives the 2nd Tuesday), and whether it had to be the month's last such
    weekday instead, because the month has no 5th one."""
    nth = (anchor.day - 1) // 7  # 0 for the first Tuesday of the month, 4 for the fifth
    year, month = divmod(anchor.month - 1 + months_later, 12)
    year, month = anchor.year + year, month + 1
    first_weekday, length = calendar.monthrange(year, month)
    day = 1 + (anchor.weekday() - first_weekday) % 7 + 7 * nth
    if day > length:
        return date(year, month, day - 7), True
    return date(year, month, day), False


def _wall_time(day: date, clock: time, zone: ZoneInfo) -> datetime:
    moment = datetime.combine(day, clock.replace(tzinfo=None, fold=0), tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise CopyError(
            _(
                "%(time)s does not exist on %(date)s in %(zone)s: the clocks go forward then.",
                time=clock.strftime("%H:%M"),
                date=day.isoformat(),
                zone=zone.key,
            )
        )
    return moment


def _copy(source: Event, starts_at: datetime) -> Event:
    zone = source.zone
    shift = starts_at.replace(tzinfo=None) - _local(source.starts_at, zone)

    def moved(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return (_local(moment, zone) + shift).replace(tzinfo=zone).astimezone(UTC)

    copy = Event(
        slug=_free_slug(Event, _base_slug(source.slug), starts_at.date()),
        status=EventStatus.DRAFT,
        sequence=0,
        starts_at=starts_at.astimezone(UTC),
        ends_at=moved(source.ends_at),
        registration_opens_at=moved(source.registration_opens_at),
        registration_closes_at=moved(source.registration_closes_at),
        **{name: _fresh(getattr(source, name)) for name in COPIED_COLUMNS},
    )
    copy.people = [
        EventPerson(
            position=person.position,
            name=person.name,
            role=person.role,
            affiliation=person.affiliation,
            email=person.email,
            language=person.language,
            bio=person.bio,
            bio_es=person.bio_es,
            photo=media.copy_image(person.photo) if person.photo is not None else None,
        )  # not invited yet: each date asks its speakers afresh
        for person in source.people
    ]
    copy.image = media.copy_image(source.image) if source.image is not None else None
    copy.supporters = [
        Supporter(position=supporter.position, name=supporter.name)
        for supporter in source.supporters
    ]
    copy.questions = [
        Question(
            position=question.position,
            kind=question.kind,
            label=question.label,
            label_es=question.label_es,
            choices=[dict(choice) for choice in question.choices],
            required=question.required,
        )
        for question in source.questions
    ]
    return copy


def _fresh(value: object) -> object:
    """A list (zones, reminder offsets) of the copy's own, not the original's."""
    return list(value) if isinstance(value, list) else value


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _series_for(source: Event) -> EventSeries:
    if source.series_id is not None:
        series = db.session.get(EventSeries, source.series_id)
        if series is not None:
            return series
    series = EventSeries(
        slug=_free_slug(EventSeries, _base_slug(source.slug)),
        title=source.title,
        title_es=source.title_es,
    )
    db.session.add(series)
    db.session.flush()
    source.series_id = series.id
    return series


def _base_slug(slug: str) -> str:
    """The slug without the date a copy added: a copy of a copy gets one date, not two."""
    return _DATE_SUFFIX.sub("", slug) or slug


def _free_slug(model: type[Event] | type[EventSeries], base: str, day: date | None = None) -> str:
    """``base-YYYY-MM-DD`` (or ``base`` for a series), with ``-2``, ``-3``… if it is taken."""
    ending = f"-{day.isoformat()}" if day is not None else ""
    stem = base[: SLUG_LENGTH - len(ending) - 4].rstrip("-") + ending
    candidate, number = stem, 1
    while db.session.scalar(select(model.id).where(model.slug == candidate)) is not None:
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def public_series(slug: str, now: datetime) -> SeriesPage | None:
    """The series and its public events, upcoming (next first) and past (latest first);
    ``None`` when there is no such series or none of its events is public yet."""
    series = db.session.scalar(select(EventSeries).where(EventSeries.slug == slug))
    if series is None:
        return None
    events = _public_events_of(series.id)
    if not events:
        return None
    upcoming = [event for event in events if event.ends_at >= now]
    past = [event for event in reversed(events) if event.ends_at < now]
    return SeriesPage(series, upcoming, past)


def series_of(event: Event, now: datetime) -> SeriesPage | None:
    """For an event's page: its series with the series' other public events; ``None`` when
    it is in none, or is the only public one."""
    if event.series_id is None:
        return None
    series = db.session.get(EventSeries, event.series_id)
    others = [other for other in _public_events_of(event.series_id) if other.id != event.id]
    if series is None or not others:
        return None
    return SeriesPage(
        series,
        [other for other in others if other.ends_at >= now],
        [other for other in reversed(others) if other.ends_at < now],
    )


def series_events(series_id: int) -> list[Event]:
    """Every event of the series, drafts too, by date (for the organisers' page)."""
    return list(
        db.session.scalars(
            select(Event).where(Event.series_id == series_id).order_by(Event.starts_at, Event.id)
        )
    )


def get_series(series_id: int) -> EventSeries | None:
    return db.session.get(EventSeries, series_id)


def _public_events_of(series_id: int) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.series_id == series_id, Event.status.in_(PUBLIC_STATUSES))
            .order_by(Event.starts_at, Event.id)
        )
    )

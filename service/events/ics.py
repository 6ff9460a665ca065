"""iCalendar files: one event for download and mail, and the feed of upcoming events.

The UID is the event's own ``uid`` column, the same in every file, so a calendar that has the
event updates it (using SEQUENCE) instead of adding a copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Timezone, vCalAddress
from icalendar import Event as CalendarEvent
from icalendar.enums import STATUS

from service.events.models import Event
from service.i18n import current_language
from service.text import plain_text
from service.urls import absolute_url

PRODID = "-//Convoca//Convoca events//EN"


def event_uid(event: Event) -> str:
    return f"{event.uid}@convoca"


def event_location(event: Event, attending: Attending | None = None) -> str:
    """Where: the venue and address of an event with a room, "Online" otherwise; for one
    registrant (``attending``), where they take part, online their joining link."""
    place = ", ".join(part for part in (event.venue, event.address) if part)
    if attending is not None and attending.online:
        return attending.join_link or _("Online")
    if event.has_venue:
        return place
    return _("Online")


@dataclass(frozen=True)
class Attending:
    """How one registrant takes part, for their own copy of the calendar file: in the room
    (the venue and address), or online with their personal joining link (never the
    meeting's own address)."""

    online: bool
    join_link: str = ""


def _calendar_event(event: Event, stamp: datetime, attending: Attending | None) -> CalendarEvent:
    language = current_language()
    url = absolute_url("events.show_event", slug=event.slug)
    joining = (
        _("Your personal joining link: %(url)s", url=attending.join_link)
        if attending and attending.online and attending.join_link
        else ""
    )
    texts = (
        joining,
        event.localised("summary", language),
        plain_text(event.localised("description", language)),
        url,
    )
    return CalendarEvent.new(
        uid=event_uid(event),
        summary=event.localised("title", language),
        start=calendar_time(event.starts_at, event.zone),
        end=calendar_time(event.ends_at, event.zone),
        stamp=stamp,
        last_modified=event.updated_at,
        sequence=event.sequence,
        description="\n\n".join(text for text in texts if text),
        location=event_location(event, attending),
        url=url,
        status=STATUS.CANCELLED if event.is_cancelled else STATUS.CONFIRMED,
        organizer=_organizer(event),
    )


def _organizer(event: Event) -> vCalAddress:
    """A real address (the organisers'), so replies and calendar updates reach people."""
    organizer = vCalAddress(f"mailto:{current_app.config['ORGANISER_EMAIL']}")
    organizer.params["CN"] = event.organised_by or current_app.config["ORGANISATION_NAME"]
    return organizer


def calendar_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """The time in the event's zone, or in UTC when that local time happens twice (the hour
    clocks go back): RFC 5545 reads it as the first, ical.js as the second, UTC as itself."""
    local = moment.astimezone(zone)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        return moment.astimezone(UTC)
    return local


def _timezones(events: list[Event]) -> list[Timezone]:
    """VTIMEZONEs for the events' zones, covering a year either side of them.

    Each change of offset is written as its own RDATE line: ical.js (Thunderbird, Nextcloud,
    FullCalendar) reads only the first date of a comma-separated RDATE, and ignores the DTSTART
    of an observance without RRULE, so that date is repeated as an RDATE too.
    """
    if not events:
        return []
    first = min(event.starts_at for event in events).date() - timedelta(days=366)
    last = max(event.ends_at for event in events).date() + timedelta(days=366)
    timezones = []
    for tzid in sorted({event.timezone for event in events}):
        timezone = Timezone.from_tzid(tzid, first_date=first, last_date=last)
        for observance in timezone.subcomponents:
            onsets = [observance.DTSTART]
            rdates = observance.pop("RDATE", [])
            for rdate in rdates if isinstance(rdates, list) else [rdates]:
                onsets += [period.dt for period in rdate.dts]
            for onset in onsets:
                observance.add("RDATE", onset)
        timezones.append(timezone)
    return timezones


def _calendar(
    events: list[Event],
    stamp: datetime,
    *,
    uid: str,
    name: str | None = None,
    attending: Attending | None = None,
) -> Calendar:
    calendar = Calendar.new(prodid=PRODID, method="PUBLISH", name=name, uid=uid)
    for timezone in _timezones(events):
        calendar.add_component(timezone)
    for event in events:
        calendar.add_component(_calendar_event(event, stamp, attending))
    if name:
        calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT6H")
    return calendar


def event_calendar(event: Event, stamp: datetime, attending: Attending | None = None) -> bytes:
    """The event's calendar file: as anyone may download it, or (``attending``) one
    registrant's own copy, with where they take part."""
    return _calendar([event], stamp, uid=event.uid, attending=attending).to_ical()


def feed_calendar(events: Iterable[Event], stamp: datetime) -> bytes:
    name = current_app.config["ORGANISATION_NAME"] or current_app.config["SITE_NAME"]
    # The feed's own UID stays the same across refreshes, so it stays one subscription.
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, absolute_url("events.calendar_feed")))
    return _calendar(list(events), stamp, uid=uid, name=name).to_ical()

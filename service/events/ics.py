"""iCalendar files: one event for download and mail, and the feed of upcoming events.

The UID is the event's own ``uid`` column, the same in every file, so a calendar that has the
event updates it (using SEQUENCE) instead of adding a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from icalendar.enums import STATUS

from service.events.models import Event
from service.i18n import current_language
from service.text import plain_text
from service.urls import absolute_url

PRODID = "-//Convoca//Convoca events//EN"


def event_uid(event: Event) -> str:
    return f"{event.uid}@convoca"


def event_location(event: Event) -> str:
    place = ", ".join(part for part in (event.venue, event.address) if part)
    if event.has_venue:
        return place
    return _("Online")


def _calendar_event(event: Event, stamp: datetime) -> CalendarEvent:
    language = current_language()
    url = absolute_url("events.show_event", slug=event.slug)
    texts = (
        event.localised("summary", language),
        plain_text(event.localised("description", language)),
        url,
    )
    return CalendarEvent.new(
        uid=event_uid(event),
        summary=event.localised("title", language),
        start=event.starts_at.astimezone(event.zone),
        end=event.ends_at.astimezone(event.zone),
        stamp=stamp,
        last_modified=event.updated_at,
        sequence=event.sequence,
        description="\n\n".join(text for text in texts if text),
        location=event_location(event),
        url=url,
        status=STATUS.CANCELLED if event.is_cancelled else STATUS.CONFIRMED,
    )


def _calendar(events: Iterable[Event], stamp: datetime, *, name: str | None = None) -> Calendar:
    calendar = Calendar.new(prodid=PRODID, method="PUBLISH", name=name)
    for event in events:
        calendar.add_component(_calendar_event(event, stamp))
    if name:
        calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT6H")
    calendar.add_missing_timezones()
    return calendar


def event_calendar(event: Event, stamp: datetime) -> bytes:
    return _calendar([event], stamp).to_ical()


def feed_calendar(events: Iterable[Event], stamp: datetime) -> bytes:
    name = current_app.config["ORGANISATION_NAME"] or current_app.config["SITE_NAME"]
    return _calendar(events, stamp, name=name).to_ical()

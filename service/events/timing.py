"""When an event happens, in words, in the event's zone and in the zones of its audience."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from service.events.models import Event

DATE_PATTERNS = {"en": "EEEE d MMMM y", "es": "EEEE, d 'de' MMMM 'de' y"}
SHORT_DATE_PATTERNS = {"en": "EEEE d MMMM", "es": "EEEE d 'de' MMMM"}
TIME_PATTERN = "HH:mm"


@dataclass(frozen=True)
class ZoneTime:
    place: str  # "La Paz"
    text: str  # "13:30 in La Paz"


@dataclass(frozen=True)
class EventTiming:
    starts: str  # "Monday 19 April 2027, 18:30 BST"
    ends: str  # "20:00 BST", or with the date when the event ends on another day
    ends_another_day: bool
    date: str  # "Monday 19 April 2027"
    elsewhere: list[ZoneTime]


def zone_abbreviation(moment: datetime) -> str:
    """BST, GMT, CET… where the zone has a letter abbreviation, else an offset like UTC-4."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _language() -> str:
    locale = get_locale()
    return locale.language if locale and locale.language in DATE_PATTERNS else "en"


def format_date(moment: datetime, zone: ZoneInfo, *, with_year: bool = True) -> str:
    language = _language()
    pattern = (DATE_PATTERNS if with_year else SHORT_DATE_PATTERNS)[language]
    return format_datetime(moment, pattern, tzinfo=zone, locale=language)


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    return format_datetime(moment, TIME_PATTERN, tzinfo=zone, locale=_language())


def format_moment(moment: datetime, zone: ZoneInfo) -> str:
    """ "Monday 19 April 2027, 18:30 BST" in the current language."""
    local = moment.astimezone(zone)
    return f"{format_date(moment, zone)}, {format_time(moment, zone)} {zone_abbreviation(local)}"


def display_zones(event: Event) -> list[str]:
    """The event's extra zones, then the site's, without repeats or the event's own zone."""
    zones: list[str] = []
    for name in [*event.extra_timezones, *current_app.config["DISPLAY_TIMEZONES"]]:
        if name != event.timezone and name not in zones:
            zones.append(name)
    return zones


def event_timing(event: Event) -> EventTiming:
    zone = event.zone
    start_local = event.starts_at.astimezone(zone)
    end_local = event.ends_at.astimezone(zone)
    date = format_date(event.starts_at, zone)
    starts = format_moment(event.starts_at, zone)
    ends = f"{format_time(event.ends_at, zone)} {zone_abbreviation(end_local)}"
    ends_another_day = end_local.date() != start_local.date()
    if ends_another_day:
        ends = f"{format_date(event.ends_at, zone)}, {ends}"
    return EventTiming(
        starts=starts,
        ends=ends,
        ends_another_day=ends_another_day,
        date=date,
        elsewhere=[_zone_time(event.starts_at, start_local, name) for name in display_zones(event)],
    )


def _zone_time(moment: datetime, event_local: datetime, zone_name: str) -> ZoneTime:
    zone = ZoneInfo(zone_name)
    language = _language()
    place = get_timezone_location(zone, locale=language, return_city=True)
    time = format_time(moment, zone)
    if moment.astimezone(zone).date() == event_local.date():
        text = _("%(time)s in %(place)s", time=time, place=place)
    else:
        day = format_date(moment, zone, with_year=False)
        text = _("%(time)s on %(day)s in %(place)s", time=time, day=day, place=place)
    return ZoneTime(place=place, text=text)


class LazyTiming:
    """The event's times, formatted when a template reads them, in the locale then in force:
    one context serves messages in several languages."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.by_language: dict[str, EventTiming] = {}

    def __getattr__(self, name: str) -> object:
        language = _language()
        if language not in self.by_language:
            self.by_language[language] = event_timing(self.event)
        return getattr(self.by_language[language], name)

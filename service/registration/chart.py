"""The dashboard's chart of an event's registrations: how many stood confirmed and waiting at
the end of each day (in the event's zone), as plain geometry the template draws as SVG.

Each day's bar is the standing total on that day, so it rises as people register and falls
when they cancel: confirmed at the foot, the waiting list stacked above, capacity as a line.
A registration's history is read from its own times: it counts from ``created_at``, as waiting
until ``promoted_at`` if it was ever promoted (or is waiting now), and no more from
``cancelled_at``. One cancelled before any promotion is drawn as confirmed until then."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service.events.models import Event
from service.extensions import db
from service.registration import parts
from service.registration.models import Registration, RegistrationStatus

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 32  # room for the axes' labels
MAX_Y_TICKS = 5
MAX_X_TICKS = 7


@dataclass(frozen=True)
class Moments:
    """One registration's history, as the chart needs it."""

    created_at: datetime
    promoted_at: datetime | None
    cancelled_at: datetime | None
    waiting_now: bool


@dataclass(frozen=True)
class Day:
    day: date
    confirmed: int
    waiting: int


@dataclass(frozen=True)
class Bar:
    day: date
    x: float
    width: float
    confirmed_y: float  # top of the confirmed part
    confirmed_height: float
    waiting_y: float  # top of the waiting part, stacked on the confirmed
    waiting_height: float


@dataclass(frozen=True)
class Tick:
    position: float  # y for the value axis, x (a bar's centre) for the days
    value: int | date


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float  # x of the plot's right edge
    top: int
    baseline: float  # y of the zero line
    days: list[Day]
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    capacity: int | None
    capacity_y: float | None

    @property
    def first_day(self) -> date:
        return self.days[0].day

    @property
    def last_day(self) -> date:
        return self.days[-1].day

    @property
    def standing(self) -> Day:
        return self.days[-1]


def nice_step(largest: int, most_ticks: int = MAX_Y_TICKS) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… that divides 0..``largest`` into at most
    ``most_ticks`` steps."""
    if largest <= most_ticks:
        return 1
    magnitude = 10 ** math.floor(math.log10(largest / most_ticks))
    for factor in (1, 2, 5, 10):
        if largest / (factor * magnitude) <= most_ticks:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - 10 always fits


def y_scale(largest: int) -> tuple[int, int]:
    """The value axis for counts up to ``largest``: (top of the axis, step between ticks).
    The top is a whole number of steps, never 0, so one registration fills the height and
    twelve get ticks of 5 up to 15."""
    step = nice_step(max(largest, 1))
    return step * max(math.ceil(largest / step), 1), step


def standing_by_day(
    registrations: list[Moments], zone: ZoneInfo, last: date, days: int
) -> list[Day]:
    """Confirmed and waiting at the end of each local day, from the first registration's day
    (or ``days`` before ``last``, whichever is later) to ``last``."""
    if not registrations:
        return []
    first_registered = min(moment.created_at for moment in registrations).astimezone(zone).date()
    first = max(min(first_registered, last), last - timedelta(days=days - 1))

    def local(moment: datetime | None) -> date | None:
        return moment.astimezone(zone).date() if moment else None

    standing = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        confirmed = waiting = 0
        for moment in registrations:
            cancelled = local(moment.cancelled_at)
            if local(moment.created_at) > day or (cancelled and cancelled <= day):
                continue
            promoted = local(moment.promoted_at)
            ever_waiting = moment.waiting_now or promoted is not None
            if ever_waiting and (promoted is None or promoted > day):
                waiting += 1
            else:
                confirmed += 1
        standing.append(Day(day, confirmed, waiting))
    return standing


def draw(days: list[Day], capacity: int | None) -> Chart:
    """Place the bars, ticks and capacity line of ``days`` (at least one) in the SVG box."""
    right, baseline = WIDTH - RIGHT, HEIGHT - BOTTOM
    plot_height = baseline - TOP
    largest = max(max(day.confirmed + day.waiting for day in days), capacity or 0)
    top_value, step = y_scale(largest)

    def y(value: int) -> float:
        return round(baseline - plot_height * value / top_value, 1)

    slot = (right - LEFT) / len(days)
    width = round(min(slot * 0.8, 48), 1)
    bars = []
    for index, day in enumerate(days):
        x = round(LEFT + slot * index + (slot - width) / 2, 1)
        confirmed_top = y(day.confirmed)
        waiting_top = y(day.confirmed + day.waiting)
        bars.append(
            Bar(
                day.day,
                x,
                width,
                confirmed_top,
                round(baseline - confirmed_top, 1),
                waiting_top,
                round(confirmed_top - waiting_top, 1),
            )
        )
    every = math.ceil(len(days) / MAX_X_TICKS)
    x_ticks = [
        Tick(round(bar.x + bar.width / 2, 1), bar.day)
        for index, bar in enumerate(bars)
        if index % every == 0
    ]
    y_ticks = [Tick(y(value), value) for value in range(0, top_value + 1, step)]
    return Chart(
        WIDTH,
        HEIGHT,
        LEFT,
        right,
        TOP,
        baseline,
        days,
        bars,
        y_ticks,
        x_ticks,
        capacity,
        y(capacity) if capacity else None,
    )


def registrations_chart(event: Event, now: datetime, days: int = 30) -> Chart | None:
    """The chart of ``event`` up to today (or the event's own day, once it has begun), or
    None before anyone registers."""
    rows = db.session.execute(
        select(
            Registration.created_at,
            Registration.promoted_at,
            Registration.cancelled_at,
            Registration.status,
        ).where(Registration.event_id == event.id)
    )
    registrations = [
        Moments(created, promoted, cancelled, status is RegistrationStatus.WAITING)
        for created, promoted, cancelled, status in rows
    ]
    last = min(now, event.starts_at).astimezone(event.zone).date()
    standing = standing_by_day(registrations, event.zone, last, days)
    return draw(standing, parts.total_capacity(event)) if standing else None

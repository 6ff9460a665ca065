"""The dashboard chart's geometry: a scale that suits 1 or 12 people, ticks, stacking, the
capacity line, and days counted in the event's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from service.extensions import db
from service.registration import chart
from service.registration.chart import Day, Moments
from service.registration.models import RegistrationStatus
from tests.events.fixtures import LONDON


@pytest.mark.parametrize(
    ("largest", "scale"),
    [
        (0, (1, 1)),
        (1, (1, 1)),
        (4, (4, 1)),
        (5, (5, 1)),
        (12, (15, 5)),
        (40, (40, 10)),
        (100, (100, 20)),
        (101, (150, 50)),
        (2345, (2500, 500)),
    ],
)
def test_the_value_axis_ends_on_a_round_step_just_above_the_largest_count(largest, scale):
    top, step = chart.y_scale(largest)
    assert (top, step) == scale
    assert top >= largest and top // step <= chart.MAX_Y_TICKS


def test_one_registration_and_twelve_are_drawn_to_different_scales():
    one = chart.draw([Day(date(2027, 3, 1), 1, 0)], capacity=None)
    twelve = chart.draw([Day(date(2027, 3, 1), 12, 0)], capacity=None)
    assert [tick.value for tick in one.y_ticks] == [0, 1]
    assert [tick.value for tick in twelve.y_ticks] == [0, 5, 10, 15]
    plot = one.baseline - one.top
    assert one.bars[0].confirmed_height == pytest.approx(plot)  # one person fills the axis
    assert twelve.bars[0].confirmed_height == pytest.approx(plot * 12 / 15, abs=0.1)


def test_the_waiting_list_is_stacked_on_the_confirmed_and_capacity_is_a_line():
    drawn = chart.draw([Day(date(2027, 3, 1), 2, 0), Day(date(2027, 3, 2), 4, 2)], capacity=4)
    second = drawn.bars[1]
    assert second.waiting_y + second.waiting_height == pytest.approx(second.confirmed_y)
    assert second.confirmed_y + second.confirmed_height == pytest.approx(drawn.baseline)
    assert drawn.capacity_y == pytest.approx(second.confirmed_y)  # full: the bar meets the line
    assert [tick.value for tick in drawn.y_ticks] == [0, 2, 4, 6]
    assert drawn.bars[0].waiting_height == 0


def test_the_capacity_sets_the_scale_while_few_have_registered():
    drawn = chart.draw([Day(date(2027, 3, 1), 3, 0)], capacity=100)
    assert drawn.y_ticks[-1].value == 100
    assert drawn.capacity_y == pytest.approx(drawn.top)


def test_day_ticks_are_at_most_seven_and_start_at_the_first_day():
    days = [Day(date(2027, 3, 1) + timedelta(days=n), n, 0) for n in range(30)]
    drawn = chart.draw(days, capacity=None)
    assert 2 <= len(drawn.x_ticks) <= chart.MAX_X_TICKS
    assert drawn.x_ticks[0].value == date(2027, 3, 1)
    assert all(a.position < b.position for a, b in zip(drawn.x_ticks, drawn.x_ticks[1:]))
    assert drawn.bars[-1].x + drawn.bars[-1].width <= drawn.right


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=UTC)


def test_each_day_shows_who_stood_confirmed_and_waiting_at_its_end():
    people = [
        Moments(at(1), None, None, waiting_now=False),
        Moments(at(1), None, at(3), waiting_now=False),  # cancelled on the 3rd
        Moments(at(2), at(4), None, waiting_now=False),  # waited, promoted on the 4th
        Moments(at(2), None, None, waiting_now=True),  # still waiting
    ]
    standing = chart.standing_by_day(people, LONDON, last=date(2027, 3, 5), days=30)
    assert [(day.day.day, day.confirmed, day.waiting) for day in standing] == [
        (1, 2, 0),
        (2, 2, 2),
        (3, 1, 2),
        (4, 2, 1),
        (5, 2, 1),
    ]


def test_days_are_the_event_zones_across_the_clock_change():
    # 23:30 UTC on 30 October 2027 is already 00:30 on the 31st in London (summer time);
    # 23:30 UTC on 31 October is 23:30 on the 31st (winter time): both the same local day.
    people = [
        Moments(datetime(2027, 10, 30, 23, 30, tzinfo=UTC), None, None, False),
        Moments(datetime(2027, 10, 31, 23, 30, tzinfo=UTC), None, None, False),
    ]
    standing = chart.standing_by_day(people, LONDON, last=date(2027, 11, 1), days=30)
    assert [(day.day, day.confirmed) for day in standing] == [
        (date(2027, 10, 31), 2),
        (date(2027, 11, 1), 2),
    ]
    in_utc = chart.standing_by_day(people, UTC, last=date(2027, 11, 1), days=30)
    assert in_utc[0] == Day(date(2027, 10, 30), 1, 0)


def test_only_the_last_days_are_drawn_and_earlier_people_still_count():
    people = [Moments(at(1, month=1), None, None, False), Moments(at(20), None, None, False)]
    standing = chart.standing_by_day(people, LONDON, last=date(2027, 3, 20), days=10)
    assert len(standing) == 10
    assert standing[0] == Day(date(2027, 3, 11), 1, 0)
    assert standing[-1] == Day(date(2027, 3, 20), 2, 0)


def test_the_chart_reads_registrations_from_the_database(app, make_event, make_registration):
    event = make_event(capacity=2)
    make_registration(event.id, "a@example.org", created_at=at(1))
    make_registration(event.id, "b@example.org", created_at=at(1, 18))
    make_registration(
        event.id, "c@example.org", created_at=at(2), status=RegistrationStatus.WAITING
    )
    with app.app_context():
        stored = db.session.merge(event)
        drawn = chart.registrations_chart(stored, now=at(3))
        assert [(day.confirmed, day.waiting) for day in drawn.days] == [(2, 0), (2, 1), (2, 1)]
        assert drawn.capacity == 2
        # After the event began, the chart stops at its day.
        later = chart.registrations_chart(stored, now=datetime(2027, 6, 1, tzinfo=UTC))
        assert later.last_day == date(2027, 4, 19)


def test_no_chart_before_anyone_registers(app, make_event):
    event = make_event()
    with app.app_context():
        assert chart.registrations_chart(db.session.merge(event), now=at(3)) is None

"""Attendance: checked in at the door, or the personal joining link used during the meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.extensions import db
from service.registration import attendance, links, roster
from service.registration import service as registering
from service.registration.models import JoinClick, Registration, RegistrationMode

STARTS = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)
NOW = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)


def test_checked_in_or_joined_during_the_meeting_attended_and_nobody_else(app, make_event):
    event = make_event(
        starts_at=STARTS.isoformat(), ends_at=(STARTS + timedelta(hours=2)).isoformat()
    )
    with app.app_context():
        ids = {
            name: registering.register(
                event.slug, registering.Attendee(name, f"{name}@example.org"), "en", NOW
            )
            for name in ("door", "link", "early", "after", "absent", "gone")
        }
        roster.set_checked_in(ids["door"], event.id, True, STARTS)
        link_user = db.session.get(Registration, ids["link"])
        assert links.use_join_link(link_user, STARTS + timedelta(minutes=5)) is (
            links.JoinDecision.ENTER
        )
        # Clicks outside the meeting (recorded when the event was at another time) do not count.
        db.session.add_all(
            [
                JoinClick(registration_id=ids["early"], clicked_at=STARTS - timedelta(hours=2)),
                JoinClick(registration_id=ids["after"], clicked_at=STARTS + timedelta(hours=2)),
            ]
        )
        db.session.commit()
        roster.set_checked_in(ids["gone"], event.id, True, STARTS)
        registering.cancel_registration(ids["gone"], STARTS + timedelta(minutes=1))

        live = db.session.get(type(event), event.id)
        assert attendance.attended_ids(live) == {ids["door"], ids["link"]}


def test_an_online_events_registrants_take_part_online_and_an_in_person_events_in_the_room(
    app, make_event
):
    when = {"starts_at": STARTS.isoformat(), "ends_at": (STARTS + timedelta(hours=2)).isoformat()}
    online = make_event(slug="online-meeting", format="online", **when)
    room = make_event(
        slug="room-meeting", format="in_person", venue="Marx Memorial Library", **when
    )
    with app.app_context():
        modes = [
            db.session.get(
                Registration,
                registering.register(
                    event.slug, registering.Attendee("Ana", "ana@example.org"), "en", NOW
                ),
            ).mode
            for event in (online, room)
        ]
    assert modes == [RegistrationMode.ONLINE, RegistrationMode.IN_PERSON]

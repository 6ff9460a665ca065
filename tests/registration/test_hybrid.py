"""Hybrid events: a room and an online part, each with its places and its waiting list; the
registrant's choice, switching from the manage page, and what each part's mail says."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import select

from service.events.models import Event
from service.events.schema import EventDataError
from service.extensions import db
from service.mail import service as mail
from service.mail.models import OutboxMessage
from service.registration import links, roster
from service.registration import service as registering
from service.registration.models import Registration, RegistrationMode, RegistrationStatus
from service.reminders.service import sweep_reminders
from tests.events.fixtures import SECRET_JOIN_URL, event_data
from tests.events.test_pages import text_of
from tests.registration.fixtures import csrf_token, submit_registration

STARTS = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)
NOW = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)
ROOM, ONLINE = RegistrationMode.IN_PERSON, RegistrationMode.ONLINE
CONFIRMED, WAITING = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING
SLUG = "solidarity-meeting"
HYBRID = {
    "format": "hybrid",
    "venue": "Conway Hall",
    "address": "25 Red Lion Square, London",
    "starts_at": STARTS.isoformat(),
    "ends_at": (STARTS + timedelta(hours=2)).isoformat(),
}


@pytest.fixture
def hybrid(make_event):
    """Two places in the room and one online, with waiting lists."""
    return make_event(**HYBRID, capacity=2, online_capacity=1)


def register(app, name: str, mode: RegistrationMode | None, now: datetime = NOW) -> int:
    with app.app_context():
        return registering.register(
            SLUG, registering.Attendee(name, f"{name}@example.org", mode=mode), "en", now
        )


def standing(app) -> dict[str, tuple[RegistrationMode, RegistrationStatus, object]]:
    """Each person's part, status and the part they asked to switch to, by name."""
    with app.app_context():
        return {
            row.name: (row.mode, row.status, row.wants_mode)
            for row in db.session.scalars(select(Registration).order_by(Registration.id))
        }


def deliver(app) -> None:
    """Send what is due by the start (what these tests queue is dated weeks before it)."""
    with app.app_context():
        mail.dispatch_due(STARTS)


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


def calendar_text(message) -> str:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part.get_content()


def manage_path(message) -> str:
    return re.search(r"https://events\.example\.org(/r/\S+)", text(message)).group(1)


def join_path(message) -> str | None:
    found = re.search(r"https://events\.example\.org(/j/\S+)", text(message))
    return found.group(1) if found else None


def templates_to(app, email: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage.template)
                .where(OutboxMessage.recipient == email)
                .order_by(OutboxMessage.id)
            )
        )


# --- Two parts, each with its places and waiting list ----------------------------------------


def test_each_part_fills_and_waits_on_its_own(app, hybrid):
    for name, mode in [("r1", ROOM), ("o1", ONLINE), ("r2", ROOM), ("o2", ONLINE), ("r3", ROOM)]:
        register(app, name, mode)
    assert standing(app) == {
        "r1": (ROOM, CONFIRMED, None),
        "o1": (ONLINE, CONFIRMED, None),
        "r2": (ROOM, CONFIRMED, None),
        "o2": (ONLINE, WAITING, None),
        "r3": (ROOM, WAITING, None),
    }
    with app.app_context():
        available = registering.availability(db.session.get(Event, hybrid.id), NOW)
        assert available.state is registering.RegistrationState.WAITING_LIST
        assert [(p.mode, p.state) for p in available.parts] == [
            (ROOM, registering.RegistrationState.WAITING_LIST),
            (ONLINE, registering.RegistrationState.WAITING_LIST),
        ]


def test_a_cancelled_room_place_goes_to_the_first_waiting_for_the_room(app, smtp, hybrid):
    ids = {name: register(app, name, mode) for name, mode in [
        ("r1", ROOM), ("r2", ROOM), ("o1", ONLINE), ("o2", ONLINE), ("r3", ROOM), ("r4", ROOM)
    ]}  # fmt: skip
    with app.app_context():
        registering.cancel_registration(ids["r1"], NOW)
    after = standing(app)
    assert after["r3"] == (ROOM, CONFIRMED, None)
    assert after["r4"] == (ROOM, WAITING, None)
    assert after["o2"] == (ONLINE, WAITING, None)  # a room place is no online place
    assert templates_to(app, "r3@example.org")[-1] == "registration/promoted"


def test_the_public_page_says_how_each_part_stands_never_a_number(app, client, make_event):
    make_event(**HYBRID, capacity=1, online_capacity=40)
    register(app, "r1", ROOM)
    page = text_of(client.get(f"/events/{SLUG}"))
    assert "In the room: full, waiting list open." in page
    assert "Online: places available." in page
    assert "39" not in page
    spanish = text_of(client.get(f"/language/es?next=/events/{SLUG}", follow_redirects=True))
    assert "En la sala: completo, lista de espera abierta." in spanish
    assert "En línea: hay plazas." in spanish


def test_the_form_asks_how_and_marks_a_full_part(app, client, make_event):
    make_event(**HYBRID, capacity=1, online_capacity=5)
    register(app, "r1", ROOM)
    page = client.get(f"/events/{SLUG}/register").get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="mode"[^>]*>', page)
    assert [re.search(r'value="(\w+)"', radio).group(1) for radio in radios] == [
        "in_person",
        "online",
    ]
    assert "In the room (waiting list)" in page
    assert not any("disabled" in radio for radio in radios)

    missing = submit_registration(client, email="nobody@example.org")
    assert missing.status_code == 400
    assert "Choose how you will take part: in the room or online." in text_of(missing)

    assert submit_registration(client, email="ana@example.org", mode="online").status_code == 302
    assert submit_registration(client, email="bea@example.org", mode="in_person").status_code == 302
    with app.app_context():
        rows = db.session.execute(
            select(Registration.email, Registration.mode, Registration.status)
        )
        by_email = {email: (mode, status) for email, mode, status in rows}
    assert by_email["ana@example.org"] == (ONLINE, CONFIRMED)
    assert by_email["bea@example.org"] == (ROOM, WAITING)


def test_a_full_part_without_a_waiting_list_cannot_be_chosen(app, client, make_event):
    make_event(**HYBRID, capacity=1, online_capacity=5, waiting_list=False)
    register(app, "r1", ROOM)
    page = client.get(f"/events/{SLUG}/register").get_data(as_text=True)
    [room] = re.findall(r'<input[^>]*value="in_person"[^>]*>', page)
    assert "disabled" in room
    assert "In the room (full)" in page
    # Sent anyway (an old page): the form comes back with the reason and what was typed.
    refused = submit_registration(client, email="ana@example.org", mode="in_person")
    assert refused.status_code == 400
    assert "That part is full now: please choose the other." in text_of(refused)
    assert 'value="ana@example.org"' in refused.get_data(as_text=True)
    # The same answer for an address already registered: nothing tells who registered.
    again = submit_registration(client, email="r1@example.org", mode="in_person")
    assert again.status_code == 400
    assert "That part is full now" in text_of(again)
    assert len(standing(app)) == 1


def test_a_nul_byte_in_the_mode_is_a_clear_error_not_a_500(app, client, hybrid):
    response = submit_registration(client, mode="online\x00")
    assert response.status_code == 400
    assert standing(app) == {}


# --- Switching -----------------------------------------------------------------------------


def switch(client, manage: str, **form) -> str:
    token = csrf_token(client, manage)
    response = client.post(f"{manage}/switch", data={"csrf_token": token, **form})
    assert response.status_code == 302
    return text_of(client.get(manage))


def test_room_to_online_frees_a_seat_for_the_first_waiting_and_mails_both(
    app, client, smtp, make_event
):
    make_event(**HYBRID, capacity=1, online_capacity=5)
    register(app, "ana", ROOM)
    register(app, "bea", ROOM)
    deliver(app)
    [confirmation] = smtp.to("ana@example.org")
    manage = manage_path(confirmation)
    page = switch(client, manage)
    assert "Done: you now take part online." in page
    assert standing(app) == {"ana": (ONLINE, CONFIRMED, None), "bea": (ROOM, CONFIRMED, None)}

    deliver(app)
    [_, switched] = smtp.to("ana@example.org")
    assert switched["Subject"] == "You now take part online: Solidarity meeting"
    assert join_path(switched) is not None
    assert "/j/" in calendar_text(switched)  # their own link, in their calendar file
    assert SECRET_JOIN_URL not in switched.as_string()
    assert "Conway Hall" not in text(switched)
    [_, promoted] = smtp.to("bea@example.org")
    assert promoted["Subject"] == "A place is yours: Solidarity meeting"
    assert join_path(promoted) is None


def test_online_to_a_full_room_waits_keeping_the_online_place_until_promoted(
    app, client, smtp, make_event
):
    make_event(**HYBRID, capacity=1, online_capacity=1)
    ids = {name: register(app, name, mode) for name, mode in [
        ("room", ROOM), ("ana", ONLINE), ("online-waiting", ONLINE)
    ]}  # fmt: skip
    deliver(app)
    manage = manage_path(smtp.to("ana@example.org")[0])
    page = switch(client, manage)
    assert "You are on the waiting list for a place in the room" in page
    assert "you are number 1 on its waiting list" in page
    # Someone registering for the room after she asked queues behind her.
    register(app, "room-later", ROOM, NOW + timedelta(days=1))
    assert standing(app)["ana"] == (ONLINE, CONFIRMED, ROOM)
    deliver(app)
    queued = smtp.to("ana@example.org")[-1]
    assert queued["Subject"] == "On the waiting list for a place in the room: Solidarity meeting"
    assert "You keep the place you have until then." in text(queued)

    with app.app_context():
        registering.cancel_registration(ids["room"], NOW + timedelta(days=2))
    after = standing(app)
    assert after["ana"] == (ROOM, CONFIRMED, None)  # she asked first
    assert after["online-waiting"] == (ONLINE, CONFIRMED, None)  # her online place, passed on
    assert after["room-later"] == (ROOM, WAITING, None)
    assert templates_to(app, "ana@example.org")[-1] == "registration/switched"
    assert templates_to(app, "online-waiting@example.org")[-1] == "registration/promoted"
    deliver(app)
    moved = smtp.to("ana@example.org")[-1]
    assert moved["Subject"] == "You now take part in the room: Solidarity meeting"
    assert join_path(moved) is None and "/j/" not in calendar_text(moved)
    assert "Conway Hall" in calendar_text(moved)


def test_withdrawing_a_switch_keeps_the_place(app, client, smtp, make_event):
    make_event(**HYBRID, capacity=1, online_capacity=1)
    register(app, "room", ROOM)
    register(app, "ana", ONLINE)
    deliver(app)
    manage = manage_path(smtp.to("ana@example.org")[0])
    switch(client, manage)
    page = switch(client, manage, stay="1")
    assert "You keep your place and are no longer waiting to switch." in page
    assert standing(app)["ana"] == (ONLINE, CONFIRMED, None)


def test_two_switchers_in_full_parts_trade_places(app, make_event):
    make_event(**HYBRID, capacity=1, online_capacity=1)
    ids = {"room": register(app, "room", ROOM), "online": register(app, "online", ONLINE)}
    with app.app_context():
        assert registering.switch_part(ids["room"], NOW) is registering.Switch.QUEUED
        assert registering.switch_part(ids["online"], NOW) is registering.Switch.SWITCHED
    assert standing(app) == {
        "room": (ONLINE, CONFIRMED, None),
        "online": (ROOM, CONFIRMED, None),
    }


def test_no_switch_into_a_full_part_without_a_waiting_list_nor_at_a_non_hybrid_event(
    app, make_event
):
    make_event(**HYBRID, capacity=1, online_capacity=1, waiting_list=False)
    ids = [register(app, "room", ROOM), register(app, "online", ONLINE)]
    with app.app_context():
        assert registering.switch_part(ids[1], NOW) is registering.Switch.FULL
    in_person = event_data(**{**HYBRID, "format": "in_person"}, capacity=5)
    with app.app_context():
        registering.update_event(SLUG, in_person, notify=False, now=NOW)
        assert registering.switch_part(ids[0], NOW) is registering.Switch.NOT_POSSIBLE
    assert standing(app) == {"room": (ROOM, CONFIRMED, None), "online": (ROOM, CONFIRMED, None)}


# --- The joining link ------------------------------------------------------------------------


def test_the_joining_link_is_refused_in_the_room_and_works_after_switching(
    app, client, smtp, hybrid
):
    ana = register(app, "ana", ROOM)
    deliver(app)
    [confirmation] = smtp.to("ana@example.org")
    assert join_path(confirmation) is None
    with app.app_context():
        registration = db.session.get(Registration, ana)
        link = links.join_url(registration).removeprefix("https://events.example.org")
        during = STARTS + timedelta(minutes=5)
        assert links.use_join_link(registration, during) is links.JoinDecision.IN_THE_ROOM
    refused = client.get(link)
    assert refused.status_code == 200
    assert "Your place is in the room" in text_of(refused)
    assert SECRET_JOIN_URL not in refused.get_data(as_text=True)
    assert "Join the meeting" not in text_of(client.get(manage_path(confirmation)))

    switch(client, manage_path(confirmation))
    with app.app_context():
        registration = db.session.get(Registration, ana)
        assert links.use_join_link(registration, during) is links.JoinDecision.ENTER
    assert "The meeting is not open yet." in text_of(client.get(link))  # now, weeks before


def test_no_joining_link_in_any_mail_or_calendar_to_the_room(app, smtp, make_event):
    make_event(**HYBRID, capacity=1, online_capacity=5)
    first = register(app, "first", ROOM)
    register(app, "second", ROOM)
    register(app, "online", ONLINE)
    with app.app_context():
        registering.cancel_registration(first, NOW)  # second is promoted into the room
        sweep_reminders(STARTS - timedelta(minutes=59))
    deliver(app)
    # Queued in the same instant, they may be sent in either order.
    room_mail = {m["Subject"].split(":")[0]: m for m in smtp.to("second@example.org")}
    assert set(room_mail) == {"You're on the waiting list", "A place is yours", "Starting soon"}
    for message in room_mail.values():
        assert "/j/" not in message.as_string()
        assert SECRET_JOIN_URL not in message.as_string()
    assert "25 Red Lion Square" in text(room_mail["Starting soon"])
    promoted_calendar = Calendar.from_ical(calendar_text(room_mail["A place is yours"]))
    assert "Conway Hall" in str(promoted_calendar.events[0]["LOCATION"])
    [online_confirmation, online_reminder] = smtp.to("online@example.org")
    assert join_path(online_confirmation) and join_path(online_reminder)
    assert "25 Red Lion Square" not in text(online_reminder)
    location = str(Calendar.from_ical(calendar_text(online_confirmation)).events[0]["LOCATION"])
    assert location.startswith("https://events.example.org/j/")


# --- Organisers ------------------------------------------------------------------------------


def test_the_door_checks_in_the_room_only(app, hybrid):
    room, online = register(app, "room", ROOM), register(app, "online", ONLINE)
    with app.app_context():
        event = db.session.get(Event, hybrid.id)
        rows, total = roster.find_at_the_door(event)
        assert ([row.name for row in rows], total) == (["room"], 1)
        found, _ = roster.find_at_the_door(event, "online")
        assert [(row.name, row.mode) for row in found] == [("online", ONLINE)]
        with pytest.raises(LookupError):
            roster.set_checked_in(online, hybrid.id, True, STARTS)
        assert roster.set_checked_in(room, hybrid.id, True, STARTS)
        [in_room, on_line] = roster.part_counts(event, STARTS + timedelta(minutes=10))
        assert (in_room.confirmed, in_room.capacity, in_room.attended) == (1, 2, 1)
        assert (on_line.confirmed, on_line.attended, on_line.did_not_attend) == (1, 0, 1)
        assert roster.part_counts(event, NOW)[0].attended is None  # not started yet


# --- Event JSON and the capacity rule --------------------------------------------------------


def test_event_json_round_trips_both_capacities(app, runner, hybrid, tmp_path):
    dumped = runner.invoke(args=["events", "dump", SLUG])
    data = json.loads(dumped.output)
    assert (data["format"], data["capacity"], data["online_capacity"]) == ("hybrid", 2, 1)
    data["online_capacity"] = None
    (tmp_path / "event.json").write_text(json.dumps(data))
    assert runner.invoke(args=["events", "import", str(tmp_path / "event.json")]).exit_code == 0
    with app.app_context():
        event = db.session.get(Event, hybrid.id)
        assert (event.capacity, event.online_capacity) == (2, None)


def test_online_places_on_an_online_event_are_refused_clearly(runner, tmp_path):
    (tmp_path / "event.json").write_text(json.dumps(event_data(online_capacity=10)))
    result = runner.invoke(args=["events", "import", str(tmp_path / "event.json")])
    assert result.exit_code == 1
    assert 'online_capacity: Value error, only a hybrid event (format "hybrid")' in result.output


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "2 people are already confirmed online; the online places cannot go below 2."),
        ("es", "Ya hay 2 personas confirmadas en línea; las plazas en línea no pueden bajar de 2."),
    ],
)
def test_lowering_the_online_places_below_those_confirmed_online_is_refused(
    app, make_event, language, message
):
    make_event(**HYBRID, capacity=5, online_capacity=2)
    register(app, "o1", ONLINE)
    register(app, "o2", ONLINE)
    lowered = event_data(**HYBRID, capacity=5, online_capacity=1)
    with (
        app.test_request_context(),
        force_locale(language),
        pytest.raises(EventDataError) as refused,
    ):
        registering.update_event(SLUG, lowered, notify=False, now=NOW)
    assert refused.value.by_field == {"online_capacity": [message]}
    with app.app_context():
        assert db.session.scalar(select(Event.online_capacity)) == 2


def test_raising_the_online_places_promotes_the_online_waiting_only(app, hybrid):
    register(app, "o1", ONLINE)
    register(app, "o2", ONLINE)
    register(app, "r1", ROOM)
    register(app, "r2", ROOM)
    register(app, "r3", ROOM)
    with app.app_context():
        saved = registering.update_event(
            SLUG, event_data(**HYBRID, capacity=2, online_capacity=3), notify=False, now=NOW
        )
        assert saved.promoted == 1
    assert standing(app)["o2"] == (ONLINE, CONFIRMED, None)
    assert standing(app)["r3"] == (ROOM, WAITING, None)


def test_a_hybrid_event_becoming_online_takes_everyone_online_if_the_places_hold_them(app, hybrid):
    register(app, "r1", ROOM)
    register(app, "o1", ONLINE)
    with app.test_request_context(), pytest.raises(EventDataError) as refused:
        registering.update_event(
            SLUG, event_data(**{**HYBRID, "format": "online"}, capacity=1), notify=False, now=NOW
        )
    assert refused.value.by_field == {
        "capacity": ["2 people are already confirmed; the capacity cannot go below 2."]
    }
    assert standing(app)["r1"][0] is ROOM  # nothing saved
    with app.app_context():
        registering.update_event(
            SLUG, event_data(**{**HYBRID, "format": "online"}, capacity=2), notify=False, now=NOW
        )
    assert {mode for mode, _status, _wants in standing(app).values()} == {ONLINE}

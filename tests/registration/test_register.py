"""Registering as a person does it: the form, the confirmation, the manage link, cancelling."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from service.extensions import db
from service.mail import service as mail
from service.registration import service as registering
from service.registration.models import Registration, RegistrationStatus
from tests.events.fixtures import SECRET_JOIN_URL
from tests.events.test_pages import text_of
from tests.registration.fixtures import csrf_token, submit_registration

FUTURE = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)


@pytest.fixture
def event(make_event):
    return make_event(
        starts_at=FUTURE.isoformat(),
        ends_at=(FUTURE + timedelta(hours=2)).isoformat(),
        capacity=2,
    )


def registrations(app) -> list[Registration]:
    with app.app_context():
        rows = list(db.session.scalars(select(Registration).order_by(Registration.id)))
        db.session.expunge_all()
        return rows


def deliver(app) -> None:
    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))


def links(message) -> dict[str, str]:
    text = message.get_body(("plain",)).get_content()
    return {
        "manage": re.search(r"https://events\.example\.org(/r/\S+)", text).group(1),
        "join": (re.search(r"https://events\.example\.org(/j/\S+)", text) or [None, None])[1],
    }


def test_the_whole_journey(app, client, smtp, event):
    page = client.get("/events/solidarity-meeting")
    assert "Only a few places left." in text_of(page)

    response = submit_registration(
        client,
        name="Ana Flores",
        email="Ana@Example.org",
        organisation="Friends of Bolivia",
        keep_informed="y",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/events/solidarity-meeting/registered"
    next_steps = text_of(client.get(response.headers["Location"]))
    assert "We are emailing you about Solidarity meeting, at the address you gave." in next_steps
    assert "ana@example.org" not in next_steps

    [registration] = registrations(app)
    assert registration.email == "ana@example.org"
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.organisation == "Friends of Bolivia"
    assert registration.keep_informed and registration.keep_informed_at is not None
    assert registration.language == "en"

    deliver(app)
    [confirmation] = smtp.to("ana@example.org")
    assert confirmation["Subject"] == "You're registered: Solidarity meeting"
    text = confirmation.get_body(("plain",)).get_content()
    assert "You have a place at Solidarity meeting." in text
    assert "Monday 12 May 2031, 18:30 BST" in text
    assert "Your personal joining link: https://events.example.org/j/" in text
    assert SECRET_JOIN_URL not in confirmation.as_string()
    [attachment] = list(confirmation.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "PUBLISH"
    [entry] = calendar.events
    assert entry.start.astimezone(UTC) == FUTURE
    assert str(entry["ORGANIZER"]) == "mailto:organisers@friendsofbolivia.example"
    feed = Calendar.from_ical(client.get("/events/solidarity-meeting.ics").data)
    assert str(entry["UID"]) == str(feed.events[0]["UID"])

    manage = client.get(links(confirmation)["manage"])
    assert manage.status_code == 200
    assert "You have a place." in text_of(manage)
    assert "noindex" in manage.get_data(as_text=True)

    token_page = links(confirmation)["manage"]
    cancelled = client.post(
        token_page + "/cancel", data={"csrf_token": csrf_token(client, token_page)}
    )
    assert cancelled.status_code == 302
    assert "Your registration is cancelled." in text_of(client.get(token_page))
    assert registrations(app)[0].status == RegistrationStatus.CANCELLED
    deliver(app)
    assert smtp.to("ana@example.org")[-1]["Subject"] == "Registration cancelled: Solidarity meeting"


def test_a_repeat_gets_the_same_page_and_no_second_row(app, client, smtp, event):
    first = submit_registration(client, email="ana@example.org")
    again = submit_registration(client, email=" ANA@example.org ", name="Ana again")
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert "ana@example.org" not in text_of(client.get(first.headers["Location"]))
    assert len(registrations(app)) == 1
    assert registrations(app)[0].name == "Ana Flores"
    deliver(app)
    assert len(smtp.to("ana@example.org")) == 2  # a fresh copy of the confirmation
    submit_registration(client, email="ana@example.org")
    deliver(app)
    assert len(smtp.to("ana@example.org")) == 2  # but not more than one per few minutes


def test_the_pages_do_not_tell_who_registered(client, smtp, event):
    submit_registration(client, email="someone@example.org")
    known = submit_registration(client, email="someone@example.org")
    known_page = client.get(known.headers["Location"]).get_data(as_text=True)
    unknown = submit_registration(client, email="newcomer@example.org")
    unknown_page = client.get(unknown.headers["Location"]).get_data(as_text=True)
    assert known.status_code == unknown.status_code
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known_page.replace("someone@", "X@") == unknown_page.replace("newcomer@", "X@")


def test_full_event_takes_a_waiting_list_in_order(app, client, smtp, event):
    for name in ("one", "two", "three", "four"):
        submit_registration(client, name=name.title(), email=f"{name}@example.org")
    statuses = [(r.email, r.status) for r in registrations(app)]
    assert statuses == [
        ("one@example.org", RegistrationStatus.CONFIRMED),
        ("two@example.org", RegistrationStatus.CONFIRMED),
        ("three@example.org", RegistrationStatus.WAITING),
        ("four@example.org", RegistrationStatus.WAITING),
    ]
    page = text_of(client.get("/events/solidarity-meeting"))
    assert "This meeting is full. Join the waiting list" in page
    assert "Join the waiting list" in page
    deliver(app)
    [waiting] = smtp.to("three@example.org")
    assert waiting["Subject"] == "You're on the waiting list: Solidarity meeting"
    assert "on the waiting list, number 1" in waiting.get_body(("plain",)).get_content()
    assert "/j/" not in waiting.as_string()
    assert list(waiting.iter_attachments()) == []
    fourth = smtp.to("four@example.org")[0].get_body(("plain",)).get_content()
    assert "number 2" in fourth


def test_cancelling_promotes_the_first_waiting_and_mails_them(app, client, smtp, event):
    for name in ("one", "two", "three", "four"):
        submit_registration(client, name=name.title(), email=f"{name}@example.org")
    deliver(app)
    manage = links(smtp.to("one@example.org")[0])["manage"]
    client.post(manage + "/cancel", data={"csrf_token": csrf_token(client, manage)})
    statuses = {r.email: r.status for r in registrations(app)}
    assert statuses["three@example.org"] == RegistrationStatus.CONFIRMED
    assert statuses["four@example.org"] == RegistrationStatus.WAITING
    deliver(app)
    promoted = smtp.to("three@example.org")[-1]
    assert promoted["Subject"] == "A place is yours: Solidarity meeting"
    assert "/j/" in promoted.get_body(("plain",)).get_content()
    assert [a.get_content_type() for a in promoted.iter_attachments()] == ["text/calendar"]
    four = links(smtp.to("four@example.org")[0])["manage"]
    assert "You are number 1 on the waiting list." in text_of(client.get(four))


def test_someone_waiting_can_leave_the_list(app, client, smtp, event):
    for name in ("one", "two", "three"):
        submit_registration(client, name=name.title(), email=f"{name}@example.org")
    deliver(app)
    manage = links(smtp.to("three@example.org")[0])["manage"]
    page = text_of(client.get(manage))
    assert "Leave the waiting list" in page
    client.post(manage + "/cancel", data={"csrf_token": csrf_token(client, manage)})
    assert "You have left the waiting list." in text_of(client.get(manage))
    statuses = {r.email: r.status for r in registrations(app)}
    assert statuses == {
        "one@example.org": RegistrationStatus.CONFIRMED,
        "two@example.org": RegistrationStatus.CONFIRMED,
        "three@example.org": RegistrationStatus.CANCELLED,
    }


def test_no_waiting_list_means_fully_booked(app, client, smtp, make_event):
    make_event(
        starts_at=FUTURE.isoformat(),
        ends_at=(FUTURE + timedelta(hours=2)).isoformat(),
        capacity=1,
        waiting_list=False,
    )
    submit_registration(client, email="one@example.org")
    page = text_of(client.get("/events/solidarity-meeting"))
    assert "This meeting is fully booked." in page
    assert 'name="email"' not in client.get("/events/solidarity-meeting").get_data(as_text=True)
    assert len(registrations(app)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"registration_opens_at": (FUTURE - timedelta(days=1)).isoformat()},
            "Registration opens on ",
        ),
        ({"registration_closes_at": "2020-01-01T00:00:00+00:00"}, "Registration has closed."),
        ({"status": "cancelled"}, "This event has been cancelled."),
        (
            {"starts_at": "2020-01-01T18:00:00+00:00", "ends_at": "2099-01-01T18:00:00+00:00"},
            "This event has started: registration is closed.",
        ),
    ],
)
def test_closed_registration_says_why_and_stores_nothing(app, client, make_event, fields, message):
    make_event(
        **{
            "starts_at": FUTURE.isoformat(),
            "ends_at": (FUTURE + timedelta(hours=2)).isoformat(),
            **fields,
        }
    )
    page = client.get("/events/solidarity-meeting/register")
    assert message in text_of(page)
    assert 'name="email"' not in page.get_data(as_text=True)
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/privacy").get_data(as_text=True)
    )
    response = client.post(
        "/events/solidarity-meeting/register", data={"name": "A", "email": "a@example.org"}
    )
    assert response.status_code in (302, 400)
    assert registrations(app) == []
    assert token is None  # the privacy page has no form


def test_drafts_take_no_registrations(client, make_event):
    make_event(status="draft")
    assert client.get("/events/solidarity-meeting/register").status_code == 404


def test_spanish_registration_is_answered_in_spanish(app, client, smtp, event):
    client.get("/language/es")
    submit_registration(client, email="eva@example.org", name="Eva")
    assert registrations(app)[0].language == "es"
    deliver(app)
    [confirmation] = smtp.to("eva@example.org")
    assert confirmation["Subject"] == "Inscripción confirmada: Reunión de solidaridad"
    text = confirmation.get_body(("plain",)).get_content()
    assert "Tienes plaza en Reunión de solidaridad." in text
    assert "lunes, 12 de mayo de 2031, 18:30 BST" in text
    [attachment] = list(confirmation.iter_attachments())
    assert (
        Calendar.from_ical(attachment.get_content()).events[0]["SUMMARY"]
        == "Reunión de solidaridad"
    )


def test_privacy_notice(client, app):
    assert "we treat these details as sensitive" in text_of(client.get("/privacy"))
    app.config["PRIVACY_NOTICE"] = "Our **own** notice."
    assert "Our own notice." in text_of(client.get("/privacy"))


def test_fresh_copies_at_most_once_per_few_minutes(app, event):
    from service.registration.service import Attendee, register

    first = datetime(2031, 1, 5, 12, 0, 3, tzinfo=UTC)
    attendee = Attendee("Ana Flores", "ana@example.org")
    with app.app_context():
        for minutes in (0, 1, 4, 6, 7, 12):  # the original, then repeats
            register("solidarity-meeting", attendee, "en", first + timedelta(minutes=minutes))
        from service.mail.models import OutboxMessage

        keys = [
            key.split(":again:")[-1]
            for key in db.session.scalars(
                select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)
            )
        ]
    # The confirmation, a copy at once, then none until five minutes after that copy.
    assert len(keys) == 4
    assert keys[1:] == [(first + timedelta(minutes=m)).isoformat() for m in (1, 6, 12)]


def test_registering_again_after_cancelling_joins_the_back_of_the_queue(app, smtp, event):
    from service.mail.models import OutboxMessage
    from service.registration.service import Attendee, cancel_registration, register

    now = datetime(2031, 1, 5, 12, 0, tzinfo=UTC)
    with app.app_context():
        first = register("solidarity-meeting", Attendee("Ana", "ana@example.org"), "en", now)
        register("solidarity-meeting", Attendee("Bea", "bea@example.org"), "en", now)
        register("solidarity-meeting", Attendee("Cy", "cy@example.org"), "en", now)
        cancel_registration(first, now)  # Cy takes Ana's place
        again = register(
            "solidarity-meeting", Attendee("Ana", "ANA@example.org"), "es", now + timedelta(hours=1)
        )
        keys = list(db.session.scalars(select(OutboxMessage.dedupe_key)))
    assert again > first
    rows = [(r.id, r.email, r.status, r.language) for r in registrations(app)]
    assert rows[-1] == (again, "ana@example.org", RegistrationStatus.WAITING, "es")
    assert [r.email for r in registrations(app)].count("ana@example.org") == 1
    assert f"waiting_list:{again}:{(now + timedelta(hours=1)).isoformat()}" in keys


def test_a_repeat_once_registration_has_closed_gets_its_copy(app, smtp, make_event):
    from service.mail.models import OutboxMessage
    from service.registration.service import (
        Attendee,
        RegistrationClosed,
        RegistrationState,
        register,
    )

    make_event(
        starts_at=FUTURE.isoformat(),
        ends_at=(FUTURE + timedelta(hours=2)).isoformat(),
        capacity=1,
        waiting_list=False,
    )
    now = datetime(2031, 1, 5, 12, 0, tzinfo=UTC)
    with app.app_context():
        first = register("solidarity-meeting", Attendee("Ana", "ana@example.org"), "en", now)
        # Full now: the same address is answered "full" like a new one (nobody can tell who
        # registered from the answer), and is mailed a fresh copy; the new one gets nothing.
        later = now + timedelta(hours=1)
        with pytest.raises(RegistrationClosed) as known:
            register("solidarity-meeting", Attendee("A", "Ana@example.org"), "en", later)
        with pytest.raises(RegistrationClosed) as unknown:
            register("solidarity-meeting", Attendee("Bea", "bea@example.org"), "en", later)
        keys = sorted(db.session.scalars(select(OutboxMessage.dedupe_key)))
    assert known.value.state is unknown.value.state is RegistrationState.FULL
    assert keys == [
        f"confirmation:{first}:{now.isoformat()}",
        f"confirmation:{first}:{now.isoformat()}:again:{later.isoformat()}",
    ]
    assert [r.email for r in registrations(app)] == ["ana@example.org"]


def test_the_cancellation_notice_reaches_who_registered_again_before_it_went(app, smtp, event):
    now = FUTURE - timedelta(days=30)
    person = registering.Attendee("Wara Mamani", "wara@example.org")
    with app.app_context():
        first = registering.register("solidarity-meeting", person, "en", now)
        mail.dispatch_due(now)
        registering.cancel_registration(first, now + timedelta(minutes=1))
        # Registers again before the dispatcher sends the notice: the cancelled row is deleted
        # (and SQLite may hand its id to the new one).
        registering.register("solidarity-meeting", person, "en", now + timedelta(minutes=2))
        db.session.expunge_all()
        [row] = db.session.scalars(select(Registration))
        assert row.status is RegistrationStatus.CONFIRMED
        result = mail.dispatch_due(now + timedelta(minutes=3))
        assert (result.sent, result.failed) == (2, 0), result.errors
    assert [message["Subject"] for message in smtp.to("wara@example.org")] == [
        "You're registered: Solidarity meeting",
        "Registration cancelled: Solidarity meeting",
        "You're registered: Solidarity meeting",
    ]
    notice = smtp.to("wara@example.org")[1].get_body(("plain",)).get_content()
    assert "Hello Wara Mamani," in notice
    assert "https://events.example.org/events/solidarity-meeting" in notice

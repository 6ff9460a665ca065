"""The attack: learn whether an address registered for a meeting (or signed a statement) by
sending the form with it and comparing the answer with a made-up address. In every state of
an event the two answers are the same: status, Location, the cookies set, the page after.
Only the mail differs, and the attacker does not read the registrant's mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from service.registration.models import RegistrationStatus
from service.statements import service as statements
from tests.registration.fixtures import csrf_token, submit_registration
from tests.registration.test_register import deliver, registrations
from tests.statements.fixtures import sign

KNOWN, UNKNOWN = "known@example.org", "nobody-registered@example.org"
NOW = datetime.now(UTC)
SOON = NOW + timedelta(days=20)

STATES = {
    "open": {"capacity": 100},
    "full, with a waiting list": {"capacity": 1, "waiting_list": True},
    "full, without a waiting list": {"capacity": 1, "waiting_list": False},
    "not yet open": {"registration_opens_at": (NOW + timedelta(days=5)).isoformat()},
    "closed": {"registration_closes_at": (NOW - timedelta(hours=1)).isoformat()},
    "started": {
        "starts_at": (NOW - timedelta(minutes=30)).isoformat(),
        "ends_at": (NOW + timedelta(hours=1)).isoformat(),
    },
    "past": {
        "starts_at": (NOW - timedelta(days=3)).isoformat(),
        "ends_at": (NOW - timedelta(days=3) + timedelta(hours=2)).isoformat(),
    },
    "cancelled": {"status": "cancelled"},
}
TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+"')


def answer(app, slug: str, email: str) -> tuple:
    """What a stranger sees when sending the form with ``email``, from a browser of their own."""
    client = app.test_client()
    # A page without a form (the event is closed) does not stop a script: any form's token
    # works for the whole browser session.
    token = csrf_token(client, "/organisers/login")
    response = submit_registration(client, slug=slug, email=email, name="Someone", csrf_token=token)
    cookies = sorted(header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie"))
    location = response.headers.get("Location")
    after = client.get(location) if location else response
    body = TOKEN.sub(r"\1…", after.get_data(as_text=True))
    return response.status_code, location, cookies, after.status_code, body


@pytest.mark.parametrize("state", STATES)
def test_a_registered_address_gets_the_same_answer_as_an_unknown_one(
    app, smtp, make_event, make_registration, state
):
    fields = {"starts_at": SOON.isoformat(), "ends_at": (SOON + timedelta(hours=2)).isoformat()}
    event = make_event(**{**fields, **STATES[state]})
    make_registration(event.id, KNOWN, created_at=NOW - timedelta(days=10))

    known, unknown = answer(app, event.slug, KNOWN), answer(app, event.slug, UNKNOWN)

    assert known[:4] == unknown[:4]
    assert known[4] == unknown[4]
    deliver(app)
    # Nobody else is registered or mailed on behalf of the made-up address when the event
    # takes no one, and the registrant hears at most one copy.
    takes_people = state in ("open", "full, with a waiting list")
    stored = [registration.email for registration in registrations(app)]
    assert (UNKNOWN in stored) is takes_people
    assert bool(smtp.to(UNKNOWN)) is takes_people
    assert len(smtp.to(KNOWN)) <= 1


def test_a_registrant_of_a_closed_event_is_sent_their_copy_but_the_page_tells_no_one(
    app, smtp, make_event, make_registration
):
    event = make_event(
        starts_at=SOON.isoformat(),
        ends_at=(SOON + timedelta(hours=2)).isoformat(),
        **STATES["closed"],
    )
    make_registration(event.id, KNOWN, created_at=NOW - timedelta(days=10))

    client = app.test_client()
    token = csrf_token(client, "/organisers/login")
    response = submit_registration(client, slug=event.slug, email=KNOWN, csrf_token=token)
    assert response.headers["Location"] == f"/events/{event.slug}/register"
    deliver(app)
    [copy] = smtp.to(KNOWN)
    assert copy["Subject"] == "You're registered: Solidarity meeting"


def test_the_page_does_not_count_down_one_registration_at_a_time(app, make_event):
    event = make_event(
        starts_at=SOON.isoformat(), ends_at=(SOON + timedelta(hours=2)).isoformat(), capacity=8
    )
    client = app.test_client()
    before = client.get(f"/events/{event.slug}").get_data(as_text=True)
    submit_registration(client, slug=event.slug, email="first@example.org")
    after = app.test_client().get(f"/events/{event.slug}").get_data(as_text=True)

    assert "Only a few places left." in before
    assert "Only a few places left." in after
    assert not re.search(r"\d+ places? left", after)
    assert [r.status for r in registrations(app)] == [RegistrationStatus.CONFIRMED]


@pytest.mark.parametrize("open_for_signing", [True, False])
def test_a_signatory_gets_the_same_answer_as_an_unknown_address(
    app, smtp, make_statement, open_for_signing
):
    statement = make_statement(open_for_signing=open_for_signing)
    with app.app_context():
        signer = statements.Signer(name="Known Person", email=KNOWN, show_name=True)
        statements.add_confirmed_signature(statement.id, signer, "en", NOW)

    def signing(email: str) -> tuple:
        client = app.test_client()
        token = csrf_token(client, "/organisers/login")
        response = sign(client, f"/statements/{statement.slug}", email=email, csrf_token=token)
        location = response.headers.get("Location")
        cookies = sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie"))
        page = client.get(location) if location else response
        return (
            response.status_code,
            location,
            cookies,
            TOKEN.sub(r"\1…", page.get_data(as_text=True)),
        )

    assert signing(KNOWN) == signing(UNKNOWN)

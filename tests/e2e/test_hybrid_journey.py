"""A hybrid meeting in the browser: register for the room, find no joining link, switch to
online, and the joining link now opens the meeting (it was refused before the switch)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from service.events import service as events
from service.mail import service as mail
from service.registration import links
from service.registration import service as registering
from tests.events.fixtures import event_data

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

MEETING = "https://meet.example.org/hybrid-journey-room"


def test_register_for_the_room_then_switch_online_and_join(
    page: Page, live_app, live_server, mailbox
):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    slug, address = f"hybrid-journey-{stamp}", f"hybrid-{stamp}@example.org"
    now = datetime.now(UTC)
    with live_app.app_context():  # a meeting about to start: the joining link opens it now
        registering.import_events(
            event_data(
                slug=slug,
                title="Hybrid journey",
                format="hybrid",
                venue="Conway Hall",
                address="25 Red Lion Square, London",
                join_url=MEETING,
                capacity=30,
                online_capacity=100,
                starts_at=(now + timedelta(minutes=10)).isoformat(),
                ends_at=(now + timedelta(hours=2)).isoformat(),
            ),
            now,
        )

    page.goto(f"{live_server}/events/{slug}")
    expect(page.get_by_text("In the room: places available.")).to_be_visible()
    page.get_by_label("Your name").fill("Rosa Mamani")
    page.get_by_label("Email").fill(address)
    page.get_by_label("In the room").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    [confirmation] = mailbox.to(address)
    text = confirmation.get_body(("plain",)).get_content()
    assert "How you take part: In the room" in text
    assert "25 Red Lion Square" in text
    assert "/j/" not in confirmation.as_string()
    manage_link = re.search(r"(http://127\.0\.0\.1:\d+/r/\S+)", text).group(1)

    # Their personal joining link (never mailed to the room) does not open the meeting.
    with live_app.test_request_context():
        event = events.get_event(slug)
        join_link = links.join_url(registering.find_registration(event.id, address))
    page.goto(join_link)
    expect(page.get_by_role("status")).to_contain_text("Your place is in the room")
    assert MEETING not in page.content()

    page.goto(manage_link)
    expect(page.get_by_text("You have a place.")).to_be_visible()
    expect(page.get_by_role("link", name="Join the meeting")).to_have_count(0)
    expect(page.get_by_role("heading", name="Take part online instead?")).to_be_visible()
    page.get_by_role("button", name="Take part online instead").click()
    expect(page.get_by_role("status")).to_contain_text("Done: you now take part online.")
    # Their link, signed afresh (the signature carries its time): the same registration's.
    shown = page.get_by_role("link", name="Join the meeting")
    expect(shown).to_have_attribute("href", re.compile(re.escape(join_link.split(".")[0])))

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    switched = mailbox.to(address)[-1]
    assert switched["Subject"] == "You now take part online: Hybrid journey"
    assert join_link.split(".")[0] in switched.get_body(("plain",)).get_content()
    assert MEETING not in switched.as_string()

    # The same link opens the meeting now (a redirect the browser is not sent on).
    opened = page.request.get(join_link, max_redirects=0)
    assert (opened.status, opened.headers["location"]) == (302, MEETING)
    page.get_by_role("button", name="Come to the room instead").click()
    expect(page.get_by_role("status")).to_contain_text("Done: you now take part in the room.")
    expect(page.get_by_role("link", name="Join the meeting")).to_have_count(0)
    page.goto(join_link)
    expect(page.get_by_role("status")).to_contain_text("Your place is in the room")
    assert MEETING not in page.content()

"""A door volunteer on a phone (375 px wide): search as they type, check someone in, undo it,
then open the QR code's link from a confirmation mail and check that person in.

With ``DOOR_SCREENSHOT=1`` the journey also saves ``docs/door.png``: the door page of the demo
social, as a volunteer's phone shows it."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from service.access import service as access
from service.access.models import EventRole
from service.demo import SOCIAL_SLUG
from service.events import service as events
from service.mail import service as mail
from service.organisers.service import create_organiser
from service.registration import service as registration

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 375, "height": 740}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "door.png"
CHECKIN_LINK = re.compile(r"https?://\S+/checkin/[A-Za-z0-9_.\-]+")


def fits_the_phone(page: Page) -> None:
    """No sideways scrolling: nothing is wider than the screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_volunteer_checks_people_in_on_a_phone(browser: Browser, live_app, live_server, mailbox):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    slug, email = f"door-{stamp}", f"door-{stamp}@example.org"
    ana, bea = f"ana-{stamp}@example.org", f"bea-{stamp}@example.org"
    with live_app.app_context():
        volunteer_id = create_organiser(email, PASSWORD).id
        [(event, _created)] = events.import_events(
            {
                "slug": slug,
                "title": "Bolivia solidarity social",
                "starts_at": "2031-05-12T19:00:00+01:00",
                "ends_at": "2031-05-12T22:00:00+01:00",
                "timezone": "Europe/London",
                "format": "in_person",
                "venue": "Bolivar Hall",
                "status": "published",
            }
        )
        access.grant_event_role(volunteer_id, event.id, EventRole.DOOR)
        social = events.get_event(SOCIAL_SLUG)
        access.grant_event_role(volunteer_id, social.id, EventRole.DOOR)
        for name, address in (("Ana López", ana), ("Bea Quispe", bea)):
            registration.register(
                slug, registration.Attendee(name, address), "en", datetime.now(UTC)
            )
        mail.dispatch_due(datetime.now(UTC))
    [confirmation] = mailbox.to(bea)
    [bea_link] = set(CHECKIN_LINK.findall(confirmation.get_body(("plain",)).get_content()))

    context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(bea_link)  # the camera opens the link: first the login, then back to it
    expect(page).to_have_url(re.compile(r"/organisers/login\?next="))
    expect(page.get_by_text("Bea Quispe")).to_have_count(0)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(bea_link)
    expect(page.get_by_role("heading", name="Bea Quispe")).to_be_visible()
    fits_the_phone(page)

    door = f"{live_server}/organisers/events/{slug}/door"
    page.goto(door)
    expect(page.get_by_text("0 / 2 checked in")).to_be_visible()
    fits_the_phone(page)

    page.get_by_label("Name or organisation").press_sequentially("lopez", delay=50)
    expect(page).to_have_url(f"{door}?q=lopez")  # submitted as they typed, no button
    expect(page.locator(".door__person")).to_have_count(1)
    button = page.get_by_role("button", name="Check in Ana López")
    box = button.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44
    button.click()

    expect(page).to_have_url(f"{door}?q=lopez")  # the search is kept
    expect(page.get_by_role("status").filter(has_text="Checked in Ana López")).to_be_visible()
    expect(page.get_by_text("1 / 2 checked in")).to_be_visible()
    fits_the_phone(page)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Check-in undone.")).to_be_visible()
    expect(page.get_by_text("0 / 2 checked in")).to_be_visible()
    expect(page.get_by_role("button", name="Check in Ana López")).to_be_visible()

    page.goto(bea_link)
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_text(re.compile(r"✓ Checked in \d"))).to_be_visible()
    fits_the_phone(page)
    page.get_by_role("link", name="The door page").click()
    expect(page.get_by_text("1 / 2 checked in")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Checked in Bea Quispe")).to_be_visible()

    page.goto(f"{live_server}/organisers/events/{SOCIAL_SLUG}/door")
    fits_the_phone(page)
    if os.environ.get("DOOR_SCREENSHOT"):
        page.get_by_role("button", name=re.compile("^Check in ")).first.click()
        page.screenshot(path=str(SCREENSHOT))
    context.close()

"""A speaker accepts an invitation: the organiser invites them, they follow the mail's link,
confirm with a bio, and the organiser and the event page both show it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from service.db import utc_now
from service.demo import DEMO_EVENT_SLUG
from service.mail import service as mail
from service.organisers.service import create_organiser, find_organiser

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"


def test_an_invited_speaker_confirms_with_a_bio(
    page: Page, browser: Browser, live_app, live_server, mailbox
):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    email = f"speakers-organiser-{stamp}@example.org"
    speaker_email = f"speaker-{stamp}@example.org"
    name = f"Leonilda Zurita {stamp}"
    with live_app.app_context():
        if find_organiser(email) is None:
            create_organiser(email, PASSWORD, admin=True)

    page.goto(live_server + "/organisers/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.goto(f"{live_server}/organisers/events/{DEMO_EVENT_SLUG}/speakers")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email (private: for the invitation and the brief)").fill(speaker_email)
    page.get_by_label("Their language").select_option("en")
    page.get_by_role("button", name="Add and invite").click()
    expect(page.get_by_role("status").first).to_contain_text("has been sent an invitation")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("no answer yet")

    with live_app.app_context():
        mail.dispatch_due(utc_now())  # as the scheduler would
    [invitation] = mailbox.to(speaker_email)
    link = re.search(r"(\S+/speak/\S+)", invitation.get_body(("plain",)).get_content()).group(1)
    assert link.startswith(live_server + "/speak/")

    visitor = browser.new_context(locale="en-GB")
    speaker = visitor.new_page()
    speaker.goto(link)
    expect(speaker.get_by_role("heading", name="Your invitation")).to_be_visible()
    speaker.get_by_label("Yes, I will take part").check()
    speaker.get_by_label("Affiliation or role (optional)").fill("Bartolina Sisa confederation")
    speaker.get_by_label("A short bio (optional)").fill(
        "Senator and leader of the **Bartolina Sisa** women's movement."
    )
    speaker.get_by_role("button", name="Send my answer").click()
    expect(speaker.get_by_role("status").first).to_contain_text("you are confirmed")
    visitor.close()

    page.reload()
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("Confirmed on")

    page.goto(f"{live_server}/events/{DEMO_EVENT_SLUG}")
    people = page.locator(".event__people")
    expect(people).to_contain_text(name)
    expect(people.locator("strong", has_text="Bartolina Sisa").first).to_be_visible()
    expect(people).to_contain_text("women's movement")

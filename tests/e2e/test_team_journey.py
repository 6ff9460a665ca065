"""An admin invites a door volunteer, who accepts on a phone, sets up the second factor, checks
someone in at the door, and cannot export the attendees."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from service.db import utc_now
from service.demo import DEMO_EVENT_SLUG
from service.mail import service as mail
from service.organisers.service import create_organiser
from service.registration import service as registration

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 375, "height": 740}


def log_in(page: Page, server: str, email: str, password: str) -> None:
    page.goto(server + "/organisers/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_door_volunteer_joins_by_invitation_and_checks_people_in_on_a_phone(
    page: Page, browser: Browser, live_app, live_server, mailbox
):
    stamp = f"{utc_now().timestamp():.0f}"
    admin, volunteer = f"admin-{stamp}@example.org", f"door-{stamp}@example.org"
    attendee_name = f"Ana Mamani {stamp}"
    with live_app.app_context():
        create_organiser(admin, PASSWORD, admin=True)
        registration.register(
            DEMO_EVENT_SLUG,
            registration.Attendee(name=attendee_name, email=f"ana-{stamp}@example.org"),
            "en",
            utc_now(),
        )

    # The admin invites the volunteer to the demo event's door.
    log_in(page, live_server, admin, PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(f"{live_server}/organisers/invitations/new?event={DEMO_EVENT_SLUG}")
    page.get_by_label("Email").fill(volunteer)
    page.get_by_label("Role on the events").select_option("door")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status").first).to_be_visible()

    with live_app.app_context():
        mail.dispatch_due(utc_now())
    [invitation] = mailbox.to(volunteer)
    text = invitation.get_body(preferencelist=("plain",)).get_content()
    link = re.search(re.escape(live_server) + r"/organisers/welcome/\S+", text).group(0)

    # The volunteer, on their phone, accepts and chooses their password.
    phone = browser.new_context(locale="en-GB", viewport=PHONE)
    door = phone.new_page()
    door.goto(link)
    door.get_by_label("Your name").fill("Door volunteer")
    door.get_by_label("Choose a password", exact=True).fill(PASSWORD)
    door.get_by_label("Password again").fill(PASSWORD)
    door.get_by_role("button", name="Create my account").click()

    # They set up the second factor with the key the page shows.
    door.goto(live_server + "/organisers/second-factor/setup")
    secret = re.sub(r"\s", "", door.locator("#totp-secret").inner_text())
    totp = pyotp.TOTP(secret)
    used_step = int(time.time() // 30)
    door.get_by_label("Code").fill(totp.at(used_step * 30))
    door.get_by_role("button", name="Turn on the second factor").click()
    expect(door.get_by_text(re.compile("recovery codes", re.I)).first).to_be_visible()

    # Logging in again asks for a code, computed from the same key: from a later time step,
    # since each code works once (the server accepts one step ahead).
    door.get_by_role("button", name="Log out").click()
    log_in(door, live_server, volunteer, PASSWORD)
    door.get_by_label("Code").fill(totp.at(max(used_step + 1, int(time.time() // 30)) * 30))
    door.get_by_role("button", name="Log in").click()
    expect(door.get_by_role("heading", name="Dashboard")).to_be_visible()

    # The dashboard shows the one event they are on; its attendee list has names, no emails.
    door.get_by_role("link", name=re.compile("Attendees|Check-in", re.I)).first.click()
    door.get_by_label("Search by name or organisation").fill(attendee_name)
    door.get_by_role("button", name="Search").click()
    row = door.locator("tr", has_text=attendee_name)
    expect(row).to_be_visible()
    assert f"ana-{stamp}@example.org" not in door.content()
    check_in = row.get_by_role("button", name=f"Check in {attendee_name}")
    check_in.scroll_into_view_if_needed()
    box = check_in.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    check_in.click()
    expect(door.locator("tr", has_text=attendee_name)).to_contain_text("Checked in")

    # No export for the door, in the page or by posting the form anyway.
    expect(door.get_by_role("button", name=re.compile("Export|Download", re.I))).to_have_count(0)
    token = door.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = door.request.post(
        f"{live_server}/organisers/events/{DEMO_EVENT_SLUG}/export.csv",
        form={"csrf_token": token},
        max_redirects=0,
    )
    assert refused.status == 403
    phone.close()

"""Signing the demo statement in the browser: sign, confirm from the email, be listed, withdraw."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from service.mail import service as mail

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_sign_confirm_see_the_name_withdraw(page: Page, live_app, live_server, mailbox):
    address = f"signer-{datetime.now(UTC).timestamp():.0f}@example.org"
    page.goto(live_server + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements").click()
    page.get_by_role(
        "link", name="Solidarity with Bolivia: defend democracy, no to a new coup"
    ).click()
    signatories = page.locator("#signatories")
    expect(signatories).to_contain_text("Tomás Quispe")  # featured demo signatories

    page.get_by_label("Your name", exact=True).fill("Juana Azurduy Test")
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_label("Title or organisation (optional)").fill("Example Women's Network")
    page.get_by_label("Town (optional)").fill("Sucre")
    page.get_by_label("Show my name on the public list").check()
    page.get_by_role("button", name="Sign the statement").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))  # what the scheduler does every few seconds
    [message] = mailbox.to(address)
    assert message["Subject"].startswith("Please confirm your signature")
    text = message.get_body(("plain",)).get_content()
    confirm_link = re.search(r"(http://127\.0\.0\.1:\d+/signature/confirm/\S+)", text).group(1)
    withdraw_link = re.search(r"(http://127\.0\.0\.1:\d+/signature/withdraw/\S+)", text).group(1)

    page.goto(confirm_link)
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", name="Thank you for signing")).to_be_visible()
    page.get_by_role("link", name="See the signatories").click()
    page.get_by_label("Search by name").fill("azurduy")
    page.get_by_role("button", name="Show").click()
    expect(signatories).to_contain_text("Juana Azurduy Test, Example Women's Network (Sucre)")

    page.goto(withdraw_link)
    page.get_by_role("button", name="Withdraw and delete my details").click()
    expect(page.get_by_role("status")).to_contain_text("Your signature is withdrawn")
    page.get_by_role("link", name=re.compile("Solidarity with Bolivia")).click()
    expect(page.locator("#signatories")).not_to_contain_text("Juana Azurduy Test")
    expect(page.locator("#signatories")).to_contain_text("Tomás Quispe")

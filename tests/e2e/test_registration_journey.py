"""Registering in the browser: the form, the confirmation email, the manage link, cancelling."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from service.mail import service as mail

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_register_read_the_confirmation_and_cancel(page: Page, live_app, live_server, mailbox):
    address = f"e2e-{datetime.now(UTC).timestamp():.0f}@example.org"
    page.goto(live_server + "/")
    page.get_by_role("link", name="Bolivia – People Power, Hope & Solidarity").click()
    page.get_by_label("Your name").fill("Rosa Mamani")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Organisation (optional)").fill("Bolivian Women in London")
    page.get_by_label("Online", exact=True).check()  # the demo meeting is in a room and online
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("We are emailing you about")
    expect(page.get_by_role("status")).not_to_contain_text(address)

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))  # what the scheduler does every few seconds
    [confirmation] = mailbox.to(address)
    assert confirmation["Subject"] == "You're registered: Bolivia – People Power, Hope & Solidarity"
    text = confirmation.get_body(("plain",)).get_content()
    assert "meet.example.org" not in confirmation.as_string()
    manage_link = re.search(r"(http://127\.0\.0\.1:\d+/r/\S+)", text).group(1)

    page.goto(manage_link)
    expect(page.get_by_text("You have a place.")).to_be_visible()
    expect(page.get_by_role("link", name="Join the meeting")).to_be_visible()
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.get_by_role("status")).to_contain_text("Your registration is cancelled.")
    expect(page.get_by_role("button", name="Cancel my registration")).to_have_count(0)

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    assert mailbox.to(address)[-1]["Subject"].startswith("Registration cancelled")


def test_in_spanish_an_email_of_invisible_characters_is_refused_and_the_name_kept(
    page: Page, live_app, live_server, mailbox
):
    page.goto(live_server + "/language/es?next=/events/bolivia-people-power-hope-solidarity")
    page.get_by_label("Tu nombre").fill("Rosa Mamani")
    page.get_by_label("Correo electrónico").fill(" \u200b\u00a0 ")
    page.get_by_role("button", name="Inscribirse").click()

    expect(page.get_by_text("Escribe tu dirección de correo electrónico.")).to_be_visible()
    expect(page.get_by_label("Tu nombre")).to_have_value("Rosa Mamani")
    assert page.url.endswith("/register")

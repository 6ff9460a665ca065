"""An organiser changes a meeting's time and people hear of it; cancels it, then reinstates it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from service.access import service as access
from service.access.models import EventRole
from service.events import service as events
from service.mail import service as mail
from service.organisers.service import create_organiser
from service.registration import service as registration
from tests.events.fixtures import event_data

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"


def meeting_with_a_registrant(live_app, stamp: str) -> tuple[str, str, str]:
    """A published meeting (18:30 London time, 12 May 2031), an organiser who manages it and
    a Spanish-speaking registrant; returns the slug, the organiser's and the registrant's
    addresses."""
    slug, organiser, person = (
        f"bolivia-what-next-{stamp}",
        f"organiser-{stamp}@example.org",
        f"rosa-{stamp}@example.org",
    )
    with live_app.app_context():
        account = create_organiser(organiser, PASSWORD)
        [(event, _created)] = events.import_events(
            event_data(
                slug=slug,
                title="Bolivia: what next?",
                title_es="Bolivia: ¿y ahora qué?",
                starts_at="2031-05-12T18:30:00+01:00",
                ends_at="2031-05-12T20:00:00+01:00",
            )
        )
        access.grant_event_role(account.id, event.id, EventRole.MANAGER)
        registration.register(slug, registration.Attendee("Rosa", person), "es", datetime.now(UTC))
        mail.dispatch_due(datetime.now(UTC))
    return slug, organiser, person


def log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(live_server + "/organisers/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_new_time_is_confirmed_then_mailed_with_old_and_new(
    page: Page, live_app, live_server, mailbox
):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    slug, organiser, person = meeting_with_a_registrant(live_app, stamp)
    log_in(page, live_server, organiser)

    page.goto(f"{live_server}/organisers/events/{slug}/edit")
    page.get_by_label("Starts (in the event's time zone)").fill("2031-05-13T19:00")
    page.get_by_label("Ends (in the event's time zone)").fill("2031-05-13T20:30")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="Check the changes before saving")).to_be_visible()
    expect(page.get_by_role("row", name="Starts")).to_contain_text("Monday 12 May 2031, 18:30 BST")
    expect(page.get_by_role("row", name="Starts")).to_contain_text("Tuesday 13 May 2031, 19:00 BST")
    expect(page.get_by_text("Who will be told: 1 registered and 0 waiting")).to_be_visible()
    expect(page.get_by_label("Tell them")).to_be_checked()
    page.get_by_role("button", name="Back to the form").click()  # nothing lost going back
    expect(page.get_by_label("Starts (in the event's time zone)")).to_have_value("2031-05-13T19:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Check the changes before saving")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Saved. 1 person will be told what changed."
    )

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    [changed] = [m for m in mailbox.to(person) if m["Subject"].startswith("Cambio")]
    text = changed.get_body(preferencelist=("plain",)).get_content()
    assert "antes lunes, 12 de mayo de 2031, 18:30 BST, ahora martes, 13 de mayo de 2031" in text
    assert any(p.get_content_type() == "text/calendar" for p in changed.iter_attachments())


def test_cancel_with_a_message_then_reinstate(page: Page, live_app, live_server, mailbox):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    slug, organiser, person = meeting_with_a_registrant(live_app, f"c{stamp}")
    log_in(page, live_server, organiser)

    page.goto(f"{live_server}/organisers/events/{slug}/edit")
    page.get_by_role("link", name="Cancel the event").click()
    expect(page.get_by_role("heading", name="Cancel Bolivia: what next?")).to_be_visible()
    page.get_by_label("A message to registrants (optional)").fill("We meet **in June** instead.")
    page.get_by_role("button", name="Cancel the event").click()
    expect(page.get_by_role("status").first).to_contain_text("Cancelled. 1 person will be told.")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)

    page.goto(f"{live_server}/events/{slug}")
    expect(page.get_by_role("status")).to_have_text("This event has been cancelled.")

    page.goto(f"{live_server}/organisers/events/{slug}/edit")
    page.get_by_role("link", name="Reinstate the event").click()
    expect(page.get_by_label("Yes, tell them it is on again")).to_be_checked()
    page.get_by_role("button", name="Reinstate the event").click()
    expect(page.get_by_role("status").first).to_contain_text("Reinstated. 1 person will be told.")

    page.goto(f"{live_server}/events/{slug}")
    expect(page.get_by_text("This event has been cancelled.")).to_have_count(0)
    expect(page.get_by_role("button", name="Register")).to_be_visible()

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    subjects = [m["Subject"] for m in mailbox.to(person)]
    assert "Cancelado: Bolivia: ¿y ahora qué?" in subjects
    assert "De nuevo en pie: Bolivia: ¿y ahora qué?" in subjects
    [cancelled] = [m for m in mailbox.to(person) if m["Subject"].startswith("Cancelado")]
    assert "We meet in June instead." in cancelled.get_body(("plain",)).get_content()

"""Languages and access needs in the browser: someone registers on a phone in Spanish, follows
the meeting in Spanish through interpretation and asks for captions; the confirmation tells
them how to reach the interpreted channel; the event's manager sees the headcounts and their
needs; a door volunteer sees their name and nothing of their needs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from service.access import service as access
from service.access.models import EventRole
from service.mail import service as mail
from service.organisers.service import create_organiser
from service.registration import service as registering
from tests.e2e.axe import assert_accessible, open_axe_context
from tests.events.fixtures import event_data

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"
ZOOM_SPANISH = "In Zoom, choose Interpretation, then Spanish"
SEAT = "A seat near the door"


def log_in(browser: Browser, server: str, email: str) -> Page:
    page = open_axe_context(browser, viewport={"width": 1280, "height": 900}).new_page()
    page.goto(server + "/organisers/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


def test_needs_reach_the_manager_and_never_the_door(
    browser: Browser, live_app, live_server, mailbox
):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    slug, address = f"needs-journey-{stamp}", f"needs-{stamp}@example.org"
    manager, door = f"manager-{stamp}@example.org", f"door-{stamp}@example.org"
    now = datetime.now(UTC)
    with live_app.app_context():
        [(event, _created)] = registering.import_events(
            event_data(
                slug=slug,
                title="Bolivia: a meeting in two languages",
                format="hybrid",
                venue="Conway Hall",
                address="25 Red Lion Square, London",
                capacity=30,
                online_capacity=100,
                languages=["en", "es"],
                interpretation_es=ZOOM_SPANISH,
                starts_at=(now + timedelta(days=7)).isoformat(),
                ends_at=(now + timedelta(days=7, hours=2)).isoformat(),
            ),
            now,
        )
        for email, role in ((manager, EventRole.MANAGER), (door, EventRole.DOOR)):
            account_id = create_organiser(email, PASSWORD).id
            access.grant_event_role(account_id, event.id, role)

    phone = open_axe_context(
        browser, locale="es-ES", viewport={"width": 375, "height": 812}
    ).new_page()
    phone.goto(f"{live_server}/events/{slug}")
    phone.get_by_label("Tu nombre").fill("Lucía Quispe")
    phone.get_by_label("Correo electrónico").fill(address)
    phone.get_by_label("En línea").check()
    expect(phone.get_by_role("radio", name="Español")).to_be_checked()  # the page's language first
    phone.get_by_label("Necesito interpretación para seguirla en este idioma").check()
    phone.get_by_label("Subtítulos en directo").check()
    phone.get_by_label("¿Algo más que debamos preparar? (opcional)").fill(SEAT)
    assert_accessible(phone)
    phone.get_by_role("button", name="Inscribirse").click()
    expect(phone.get_by_role("heading", name="Revisa tu correo")).to_be_visible()

    with live_app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    [confirmation] = mailbox.to(address)
    text = confirmation.get_body(("plain",)).get_content()
    assert "Interpretación al español:" in text and ZOOM_SPANISH in text
    assert "Subtítulos" not in text and SEAT not in text  # what they asked stays on our side

    # The manager books captioning and the interpreters from the counts, and sees Lucía's.
    organiser = log_in(browser, live_server, manager)
    organiser.goto(f"{live_server}/organisers/events/{slug}/attendees")
    counts = organiser.locator(".needs-counts")
    expect(counts).to_contain_text(re.compile(r"In Spanish\s*1\s*\(1 needs interpretation\)"))
    expect(counts).to_contain_text("captions 1")
    expect(organiser.locator("td.access-needs")).to_have_text(f"Live captions; {SEAT}")
    expect(organiser.get_by_label("Include each person's access needs")).not_to_be_checked()
    assert_accessible(organiser)

    # The door: the name, to check her in, and nothing of what she needs.
    volunteer = log_in(browser, live_server, door)
    seen = []
    for path in ("door?q=Luc", "attendees"):  # the attendee list: names only, for the door
        volunteer.goto(f"{live_server}/organisers/events/{slug}/{path}")
        expect(volunteer.get_by_text("Lucía Quispe")).to_be_visible()
        seen.append(volunteer.content())
    for content in seen:
        assert "captions" not in content.lower() and SEAT not in content
        assert address not in content
    for page in (phone, organiser, volunteer):
        page.context.close()

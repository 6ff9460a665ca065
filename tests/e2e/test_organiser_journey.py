"""An organiser runs a meeting: log in, create it, publish it, check someone in, export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from service.access import service as access
from service.access.models import EventRole
from service.organisers.service import create_organiser, find_organiser

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"


def test_organiser_creates_publishes_checks_in_and_exports(
    page: Page, browser: Browser, live_app, live_server
):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    email = f"organiser-{stamp}@example.org"
    with live_app.app_context():
        if find_organiser(email) is None:
            create_organiser(email, PASSWORD)
    slug = f"what-next-for-bolivia-{stamp}"

    page.goto(live_server + "/organisers/")
    expect(page).to_have_url(f"{live_server}/organisers/login?next=%2Forganisers%2F")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="New event").click()
    page.get_by_label("Title", exact=True).fill("What next for Bolivia?")
    page.get_by_label("Address (slug)").fill(slug)
    page.get_by_label("Starts (in the event's time zone)").fill("2031-05-12T18:30")
    page.get_by_label("Ends (in the event's time zone)").fill("2031-05-12T20:00")
    page.get_by_label("Format").select_option("in_person")
    page.get_by_label("Venue").fill("Marx Memorial Library")
    page.locator("#people-0-name").fill("Ollie Vargas")
    page.locator("#people-0-affiliation").fill("Journalist")
    page.locator("#people-1-name").fill("Christine Blower")
    page.locator("#people-1-role").select_option("chair")
    page.get_by_role("button", name="Create the event (as a draft)").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    page.get_by_role("button", name="Publish").click()

    page.goto(live_server + "/")
    page.get_by_role("link", name="What next for Bolivia?").click()
    expect(page.get_by_text("Chair: Christine Blower")).to_be_visible()

    visitor = browser.new_context(locale="en-GB")
    attendee = visitor.new_page()
    attendee.goto(f"{live_server}/events/{slug}")
    attendee.get_by_label("Your name").fill('=HYPERLINK("http://evil.example")')
    attendee.get_by_label("Email").fill(f"attendee-{stamp}@example.org")
    attendee.get_by_role("button", name="Register").click()
    expect(attendee.get_by_role("heading", name="Check your inbox")).to_be_visible()
    visitor.close()

    page.goto(f"{live_server}/organisers/events/{slug}/attendees")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("button", name="Undo check-in")).to_contain_text("Checked in")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.startswith(f"{slug}-attendees-")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil.example")'  # inert in a spreadsheet
    assert rows[0]["status"] == "registered"
    assert rows[0]["checked_in"] == "yes"


def test_an_organiser_in_spanish_raises_the_capacity_and_cannot_lower_it_below_the_confirmed(
    browser: Browser, live_app, live_server, tmp_path
):
    """One place, two people: the second waits. Raising the capacity gives them the place at
    once; going back below the two confirmed is refused, with the reason, in Spanish."""
    from service.registration import service as registration

    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    email, slug = f"capacidad-{stamp}@example.org", f"capacidad-{stamp}"
    with live_app.app_context():
        organiser_id = create_organiser(email, PASSWORD).id
        document = {
            "slug": slug,
            "title": "¿Qué futuro para Bolivia?",
            "starts_at": "2031-05-12T18:30:00+01:00",
            "ends_at": "2031-05-12T20:00:00+01:00",
            "timezone": "Europe/London",
            "format": "in_person",
            "venue": "Marx Memorial Library",
            "status": "published",
            "capacity": 1,
            "waiting_list": True,
        }
        [(event, _created)] = registration.import_events(document, datetime.now(UTC))
        access.grant_event_role(organiser_id, event.id, EventRole.MANAGER)
        for name in ("Ana", "Bea"):
            attendee = registration.Attendee(name, f"{name.lower()}-{stamp}@example.org")
            registration.register(slug, attendee, "es", datetime.now(UTC))

    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.goto(f"{live_server}/organisers/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(f"{live_server}/organisers/")  # logged in before going on

    page.goto(f"{live_server}/organisers/events/{slug}/edit")
    page.get_by_label("Plazas", exact=True).fill("2")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status").filter(has_text="lista de espera")).to_have_text(
        "1 persona de la lista de espera tiene ahora plaza y se le avisará."
    )

    page.get_by_label("Plazas", exact=True).fill("1")
    page.get_by_role("button", name="Guardar").click()
    expect(
        page.get_by_text("Ya hay 2 personas confirmadas; la capacidad no puede bajar de 2.")
    ).to_be_visible()
    page.screenshot(path=str(tmp_path / "capacity-es.png"), full_page=True)
    page.goto(f"{live_server}/organisers/events/{slug}/edit")
    expect(page.get_by_label("Plazas", exact=True)).to_have_value("2")  # nothing was saved
    context.close()

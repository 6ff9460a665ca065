"""An organiser opens the dashboard and reads the chart of a busy meeting: bars that climb,
the waiting list on top, the capacity line, and the same numbers in a table."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from service import PROJECT_ROOT
from service.access import service as access
from service.access.models import EventRole
from service.extensions import db
from service.organisers.service import create_organiser
from service.registration import service as registration
from service.registration.models import Registration, RegistrationStatus

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"
# Set to refresh the README's picture (docs/chart.png) from this journey.
KEEP_SCREENSHOT = "CONVOCA_DOCS_SCREENSHOTS"


def test_the_dashboard_draws_the_chart_and_its_table(page: Page, live_app, live_server, tmp_path):
    now = datetime.now(UTC)
    stamp = f"{now.timestamp():.0f}"
    email, slug = f"chart-{stamp}@example.org", f"bolivia-after-the-vote-{stamp}"
    with live_app.app_context():
        organiser_id = create_organiser(email, PASSWORD).id
        starts = (now + timedelta(days=10)).replace(hour=18, minute=30, second=0, microsecond=0)
        document = {
            "slug": slug,
            "title": "Bolivia after the vote",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "timezone": "Europe/London",
            "format": "in_person",
            "venue": "Marx Memorial Library",
            "status": "published",
            "capacity": 24,
            "waiting_list": True,
        }
        [(event, _created)] = registration.import_events(document, now)
        access.grant_event_role(organiser_id, event.id, EventRole.MANAGER)
        today = f"{now.astimezone(event.zone):%-d %b}"
        # Two weeks of sign-ups, faster towards the end; the last few wait for a place.
        for number in range(30):
            days_ago = 13 - (number * number) // 70
            db.session.add(
                Registration(
                    event_id=event.id,
                    name=f"Person {number}",
                    email=f"person{number}-{stamp}@example.org",
                    created_at=now - timedelta(days=days_ago),
                    status=(
                        RegistrationStatus.WAITING if number >= 24 else RegistrationStatus.CONFIRMED
                    ),
                )
            )
        db.session.commit()

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/organisers/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Registrations over time")).to_be_visible()

    chart = page.locator("figure.chart")
    picture = chart.get_by_role("img")
    expect(picture).to_be_visible()
    expect(picture).to_have_accessible_name(
        "Registrations for Bolivia after the vote up to "
        f"{today}: 24 confirmed, 6 waiting (capacity 24)"
    )
    expect(chart.locator("rect.chart__confirmed")).to_have_count(14)
    expect(chart.locator("line.chart__capacity")).to_have_count(1)
    box = picture.bounding_box()
    assert box is not None and box["width"] > 800  # the full width, not the reading column

    shot = tmp_path / "chart.png"
    chart.screenshot(path=str(shot))
    if os.environ.get(KEEP_SCREENSHOT):
        Path(PROJECT_ROOT / "docs" / "chart.png").write_bytes(shot.read_bytes())

    chart.get_by_text("The numbers, day by day").click()
    last_row = chart.locator("table tbody tr").last
    expect(last_row.locator("td")).to_have_text(["24", "6"])

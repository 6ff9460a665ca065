"""An organiser duplicates the demo event, then repeats it monthly three times, publishes one
of the new dates and finds it on the public series page and on the event's own page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from service.db import utc_now
from service.demo import DEMO_EVENT_SLUG
from service.events import service as events
from service.organisers.service import create_organiser

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"


def test_duplicate_then_a_monthly_series_of_three(page: Page, live_app, live_server):
    stamp = f"{utc_now().timestamp():.0f}"
    organiser = f"series-{stamp}@example.org"
    with live_app.app_context():
        create_organiser(organiser, PASSWORD, admin=True)
        demo = events.get_event(DEMO_EVENT_SLUG)
        first_day = demo.starts_at.astimezone(demo.zone).date()
        title = demo.title

    page.goto(live_server + "/organisers/login")
    page.get_by_label("Email").fill(organiser)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # Duplicate: the form suggests a week later; the copy opens as a draft in the editor.
    page.goto(f"{live_server}/organisers/events/{DEMO_EVENT_SLUG}/edit")
    page.get_by_role("link", name="Duplicate").click()
    expect(page.get_by_role("heading", name=f"Duplicate: {title}")).to_be_visible()
    page.get_by_role("button", name="Make the draft copy").click()
    expect(page.get_by_text("A draft copy is made")).to_be_visible()
    expect(page.get_by_text("Status: Draft")).to_be_visible()
    copy_slug = re.search(r"/organisers/events/([^/]+)/edit", page.url).group(1)
    assert copy_slug != DEMO_EVENT_SLUG

    # Repeat: three monthly dates, on the same weekday of the month, linked as a series.
    page.goto(f"{live_server}/organisers/events/{DEMO_EVENT_SLUG}/edit")
    page.get_by_role("link", name="Repeat").click()
    page.get_by_label("Starts (in the event's time zone)").fill(
        f"{first_day.replace(year=first_day.year + 1).isoformat()}T18:30"
    )
    page.get_by_label("Repeat").select_option("monthly")
    page.get_by_label("How many new dates").fill("3")
    page.get_by_role("button", name="Make the drafts").click()
    expect(page.get_by_text("3 drafts are made in the series.")).to_be_visible()
    dates = page.locator("table.series-dates tbody tr")
    expect(dates).to_have_count(4)  # the original and its three new dates

    # Publish the first new date; the public series page lists it with the original.
    first_new = dates.nth(1).get_by_role("link")
    new_slug = first_new.inner_text()
    first_new.click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Status: Published")).to_be_visible()

    page.goto(f"{live_server}/events/{DEMO_EVENT_SLUG}")
    expect(page.get_by_role("heading", name="Other dates in this series")).to_be_visible()
    page.get_by_role("link", name=re.compile("Every date of")).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    cards = page.locator("article.event-card")
    expect(cards).to_have_count(2)  # the two drafts left never show
    expect(page.locator(f'a[href="/events/{new_slug}"]')).to_be_visible()
    expect(page.locator(f'a[href="/events/{copy_slug}"]')).to_have_count(0)

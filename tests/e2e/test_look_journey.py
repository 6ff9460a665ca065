"""The demo event's poster in a real browser: loaded at a width from its srcset, described by
its alt text, shared as og:image, on the list and the statement too; and the home page's
introduction above the list. No CSP violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_event_journey import EVENT_PATH, TITLE, ConsoleWatch, console

__all__ = ["console"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_the_event_page_shows_its_poster_and_shares_it(
    page: Page, live_server: str, console: ConsoleWatch
) -> None:
    page.set_viewport_size({"width": 1280, "height": 1100})
    response = page.goto(live_server + "/")
    assert response is not None and response.ok
    introduction = page.get_by_role("region", name="About us")
    expect(introduction).to_contain_text("Friends of Bolivia brings people in Britain together")
    card = page.locator(".event-card").filter(has_text=TITLE)
    card_image = card.locator("img.event-card__image")
    expect(card_image).to_have_attribute(
        "alt", "Poster: People power, hope & solidarity. Bolivia, a public meeting."
    )

    page.goto(live_server + EVENT_PATH)
    poster = page.get_by_role("img", name="Poster: People power, hope & solidarity.", exact=False)
    expect(poster).to_be_visible()
    # Loaded (not a broken image), from one of the WebP widths, as wide as the column.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=poster.element_handle()
    )
    chosen = poster.evaluate("img => img.currentSrc")
    assert chosen.endswith(".webp") and "/media/" in chosen
    box = poster.bounding_box()
    assert box is not None and 600 < box["width"] <= 720
    share = page.locator('meta[property="og:image"]').get_attribute("content")
    assert (
        share is not None and share.startswith(live_server + "/media/") and share.endswith(".jpg")
    )
    image = page.request.get(share)
    assert image.ok and image.headers["content-type"] == "image/jpeg"
    assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
    expect(page.locator('meta[name="twitter:card"]')).to_have_attribute(
        "content", "summary_large_image"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / "event-page.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 1100}
    )

    page.goto(live_server + "/statements/solidarity-with-bolivia")
    expect(
        page.get_by_role("img", name="Poster: Defend democracy. No new coup.", exact=False)
    ).to_be_visible()
    assert console.problems == []

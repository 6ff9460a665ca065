"""What a visitor sees of the demo event, in a real browser against the served app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import ConsoleMessage, Error, Page, expect

# One worker runs all browser tests, so each database gets one server, not one per worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

TITLE = "Bolivia – People Power, Hope & Solidarity"
TITLE_ES = "Bolivia – Poder popular, esperanza y solidaridad"
EVENT_PATH = "/events/bolivia-people-power-hope-solidarity"
JOIN_HOST = "meet.example.org"  # the demo event's joining link must never be published
LONDON = ZoneInfo("Europe/London")
LONDON_START = re.compile(r"(Monday \d{1,2} \w+ \d{4}), (18:30) (GMT|BST)")
SPANISH_DATE = re.compile(r"lunes, \d{1,2} de \w+ de \d{4}, 18:30 (GMT|BST)")
LA_PAZ_OFFSET = timedelta(hours=-4)  # America/La_Paz: UTC-4 all year, no summer time
UK_OFFSETS = {"GMT": timedelta(0), "BST": timedelta(hours=1)}


@dataclass
class ConsoleWatch:
    """Errors the browser reported: console errors, CSP violations, uncaught exceptions."""

    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"console {message.type}: {text} ({message.location})")

    def on_page_error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")


@pytest.fixture
def console(page: Page) -> Iterator[ConsoleWatch]:
    watch = ConsoleWatch()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    # Also every page's own CSP violation events, reported back across navigations.
    page.expose_function(
        "__convocaCspViolation", lambda text: watch.problems.append(f"CSP violation: {text}")
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => {"
        "  window.__convocaCspViolation(e.violatedDirective + ' ' + e.blockedURI);"
        "});"
    )
    yield watch


def expected_la_paz_time(london_text: str) -> str:
    """'Monday 28 December 2026, 18:30 GMT' -> '14:30', worked out without the app's code."""
    match = LONDON_START.search(london_text)
    assert match, f"no London start time in {london_text!r}"
    day, clock, abbreviation = match.groups()
    local = datetime.strptime(f"{day} {clock}", "%A %d %B %Y %H:%M")
    # The abbreviation shown must be the one in force in London on that day...
    assert local.replace(tzinfo=LONDON).tzname() == abbreviation
    # ... and from it alone follows the time in La Paz.
    utc = local - UK_OFFSETS[abbreviation]
    return (utc + LA_PAZ_OFFSET).strftime("%H:%M")


def assert_no_join_link(page: Page, raw_html: str) -> None:
    assert JOIN_HOST not in raw_html
    assert JOIN_HOST not in page.content()


def parse_calendar(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def test_visitor_finds_the_event_reads_it_in_spanish_and_adds_it_to_a_calendar(
    page: Page, live_server: str, console: ConsoleWatch, tmp_path: Path
) -> None:
    # The home page lists the upcoming demo event.
    response = page.goto(live_server + "/")
    assert response is not None and response.ok
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
    event_link = page.get_by_role("link", name=TITLE, exact=True)
    expect(event_link).to_be_visible()
    assert JOIN_HOST not in response.text()

    # The visitor opens it.
    with page.expect_navigation() as navigation:
        event_link.click()
    response = navigation.value
    assert response is not None and response.ok
    assert page.url == live_server + EVENT_PATH
    expect(page).to_have_title(re.compile(re.escape(TITLE)))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    # When: the start in London time, and the same moment in La Paz.
    starts = page.locator(".event__starts")
    expect(starts).to_have_text(LONDON_START)
    london_text = starts.inner_text()
    la_paz = expected_la_paz_time(london_text)
    zones = page.locator(".event__zones")
    expect(zones).to_contain_text(f"{la_paz} in La Paz")
    expect(page.locator(".event__ends")).to_have_text(re.compile(r"until 20:00 (GMT|BST)"))

    # Who: speakers with their affiliations, and the chair.
    people = page.get_by_role("region", name="Speakers")
    expect(people.get_by_role("heading", name="Speakers")).to_be_visible()
    ollie = people.get_by_role("listitem").filter(has_text="Ollie Vargas")
    expect(ollie).to_have_text("Ollie Vargas, Journalist, eyewitness from Bolivia")
    expect(people.get_by_role("listitem").filter(has_text="Jeremy Corbyn MP")).to_be_visible()
    expect(people.locator(".chair")).to_have_text(
        "Chair: Christine Blower, Labour Friends of Progressive Latin America"
    )

    # Who supports it.
    supporters = page.locator(".event__supporters")
    expect(supporters.get_by_role("heading", name="Supported by")).to_be_visible()
    expect(supporters.get_by_role("listitem")).to_contain_text(
        ["Labour Friends of Progressive Latin America"]
    )

    # In a London room and online, and the joining link is kept for those taking part online.
    expect(page.locator(".event__format")).to_have_text("In person and online")
    expect(page.locator(".event__join-note")).to_have_text(
        "The joining link is emailed to everyone who registers to take part online."
    )
    assert_no_join_link(page, response.text())

    # The visitor switches to Spanish and stays on the same page.
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="Español").click()
    response = navigation.value
    assert response is not None and response.ok
    assert page.url == live_server + EVENT_PATH
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE_ES)
    expect(page.get_by_role("heading", name="Ponentes")).to_be_visible()
    expect(page.get_by_role("heading", name="Con el apoyo de")).to_be_visible()
    expect(page.locator(".event__starts")).to_have_text(SPANISH_DATE)
    expect(page.locator(".event__zones")).to_contain_text(f"{la_paz} en La Paz")
    expect(page.locator(".chair")).to_contain_text("Modera: Christine Blower")
    expect(page.get_by_role("link", name="English")).to_be_visible()
    assert_no_join_link(page, response.text())

    # The choice is remembered (in a cookie) on the next page.
    assert {"name": "convoca_lang", "value": "es"}.items() <= next(
        (cookie for cookie in page.context.cookies() if cookie["name"] == "convoca_lang"), {}
    ).items()
    page.get_by_role("link", name="Eventos", exact=True).click()
    expect(page).to_have_url(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Próximos eventos")
    expect(page.get_by_role("link", name=TITLE_ES, exact=True)).to_be_visible()
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Próximos eventos")

    # Back on the event page, the visitor adds it to a calendar.
    page.get_by_role("link", name=TITLE_ES, exact=True).click()
    expect(page).to_have_url(live_server + EVENT_PATH)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Añadir al calendario (.ics)").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == "bolivia-people-power-hope-solidarity.ics"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    events = parse_calendar(saved.read_bytes()).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    start = event.decoded("DTSTART")
    assert event["DTSTART"].params.get("TZID") == "Europe/London"
    assert isinstance(start, datetime)
    assert (start.hour, start.minute) == (18, 30)
    assert start.astimezone(LONDON).strftime("%H:%M") == "18:30"
    assert start.utcoffset() == UK_OFFSETS[LONDON_START.search(london_text).group(3)]
    page_start = datetime.fromisoformat(page.locator(".event__starts").get_attribute("datetime"))
    assert start == page_start
    assert (start.astimezone(UTC) + LA_PAZ_OFFSET).strftime("%H:%M") == la_paz
    assert str(event["SUMMARY"]) == TITLE_ES
    assert str(event["URL"]) == live_server + EVENT_PATH
    assert JOIN_HOST not in saved.read_text(encoding="utf-8")

    # The same event, with the same UID, is in the site's calendar feed.
    feed_response = page.request.get(live_server + "/events.ics")
    assert feed_response.ok
    assert feed_response.headers["content-type"].startswith("text/calendar")
    feed_events = parse_calendar(feed_response.body()).walk("VEVENT")
    in_feed = [item for item in feed_events if str(item["URL"]) == live_server + EVENT_PATH]
    assert len(in_feed) == 1
    assert str(in_feed[0]["UID"]) == str(event["UID"])
    assert in_feed[0].decoded("DTSTART") == start
    assert JOIN_HOST not in feed_response.text()

    # Nothing went wrong in the browser along the way.
    assert console.problems == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_event_page_fits_a_phone_screen(
    page: Page, live_server: str, console: ConsoleWatch, language: str
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/")
    if language == "es":  # Spanish words are longer: the likelier to overflow
        page.get_by_role("link", name="Español").click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
    page.goto(live_server + EVENT_PATH)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        TITLE_ES if language == "es" else TITLE
    )

    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth,"
        "  client: document.documentElement.clientWidth})"
    )
    assert 0 < widths["client"] <= 390
    too_wide = page.evaluate(
        """() => {
          const limit = document.documentElement.clientWidth;
          return Array.from(document.querySelectorAll('body *'))
            .filter((el) => el.getBoundingClientRect().right > limit + 0.5)
            .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
        }"""
    )
    assert widths["scroll"] <= widths["client"], f"wider than the screen: {too_wide}"
    assert too_wide == []
    assert console.problems == []

"""axe-core finds no WCAG 2.1 A/AA violation on any page, in English and in Spanish.

Rather than a hand list, the sweep crawls: an admin (who sees every event and statement)
follows every same-origin link breadth-first from the home page and the organisers' dashboard,
and from the pages only a mail links to (manage, confirm and unsubscribe links), and axe checks
each page in English on a desktop and in Spanish on a phone. A page that a later change adds is
covered as soon as a link reaches it. Forms are checked again with their errors shown, since
errors are where labels usually break.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from service.db import utc_now
from service.demo import DEMO_EVENT_SLUG, DEMO_STATEMENT_SLUG
from service.events import speakers
from service.events.service import get_event
from service.extensions import db
from service.followups import service as followups
from service.mail.models import MessageKind
from service.mail.unsubscribe import unsubscribe_link
from service.organisers.service import create_organiser
from service.registration import checkin, links, roster
from service.registration import service as registration
from service.registration.models import Registration
from service.statements import service as statements
from tests.e2e.axe import assert_accessible, axe_violations, describe, open_axe_context

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"
# English on a desktop, Spanish on a phone: longer words in a narrower column.
BROWSERS = {
    "en": {"locale": "en-GB", "viewport": {"width": 1280, "height": 800}},
    "es": {"locale": "es-ES", "viewport": {"width": 375, "height": 740}},
}
MAX_PAGES = 150
PER_ROUTE = 2  # addresses per route in English (two events' pages, not every event's)
PER_ROUTE_SPANISH = 1
# Links that are no page to check: the language switch only sets a cookie (each browser asks
# for its language), static files, calendars, the JSON API, the health check, and the joining
# link, which leaves for the meeting's own site. (No GET route changes anything else.)
SKIPPED_ENDPOINTS = {
    "i18n.switch_language",
    "static",
    "events.calendar_feed",
    "events.download_event_calendar",
    "events_api.list_events",
    "events_api.show_event",
    "statements_api.statement_data",
    "ops.healthz",
    "registration.join",
}

ERRORS = ".error, [aria-invalid=true], [role=alert]"  # what a refused form shows

OpenPage = Callable[[str], Page]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """A page in a new axe context (see tests/e2e/axe.py) for the language given."""
    contexts: list[BrowserContext] = []

    def open_page(language: str) -> Page:
        context = open_axe_context(browser, timezone_id="Europe/London", **BROWSERS[language])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def admin(live_app: Flask) -> str:
    email = f"axe-admin-{secrets.token_hex(4)}@example.org"
    with live_app.app_context():
        create_organiser(email, PASSWORD, admin=True)
    return email


def log_in(page: Page, server: str, email: str) -> None:
    page.goto(server + "/organisers/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.narrow-form [type=submit]").click()
    page.wait_for_url(server + "/organisers/")


def mail_links(app: Flask) -> list[str]:
    """The pages a person reaches only from a mail: the manage page of a registration that has
    been checked in (in the room of the hybrid demo meeting), its joining link (refused in the
    room), its check-in link (the QR code's), a signature's confirmation page, an unsubscribe
    page, a speaker's own page, and a follow-up's filled-in sign form and its unsubscribe
    page."""
    now = utc_now()
    email = f"axe-{now.timestamp():.0f}@example.org"
    with app.app_context():
        attendee = registration.Attendee(name="Rosa Mamani", email=email)
        registration_id = registration.register(DEMO_EVENT_SLUG, attendee, "en", now)
        roster.set_checked_in(registration_id, get_event(DEMO_EVENT_SLUG).id, True, now)
        signer = statements.Signer(name="Rosa Mamani", email=email)
        statements.sign(DEMO_STATEMENT_SLUG, signer, "en", now)
        statement = statements.get_statement(DEMO_STATEMENT_SLUG)
        [speaker, *_others] = get_event(DEMO_EVENT_SLUG).speakers
        registered = db.session.get(Registration, registration_id)
        return [
            links.manage_url(registered),
            links.join_url(registered),  # in the room: the page saying how to switch online
            checkin.checkin_url(registered),
            speakers.speaker_url(speaker),
            statements.confirm_url(statements.find_signature(statement.id, email)),
            unsubscribe_link(email, MessageKind.REMINDER),
            followups.sign_url(statement, registered),  # the sign form, filled in
            unsubscribe_link(email, MessageKind.FOLLOW_UP, registered.event_id),
        ]


@dataclass
class Crawl:
    """Breadth-first over same-origin links, at most ``PER_ROUTE`` addresses per route."""

    app: Flask
    server: str
    queue: deque[tuple[str, bool]] = field(default_factory=deque)  # (address, first of its route)
    seen: set[str] = field(default_factory=set)
    per_route: dict[str, int] = field(default_factory=dict)

    def add(self, url: str) -> None:
        address = self.normalise(url)
        if address is None or address in self.seen:
            return
        route = self.route(address)
        if route is None or self.per_route.get(route, 0) >= PER_ROUTE:
            return
        self.seen.add(address)
        self.per_route[route] = self.per_route.get(route, 0) + 1
        self.queue.append((address, self.per_route[route] <= PER_ROUTE_SPANISH))

    def normalise(self, url: str) -> str | None:
        """The address without its fragment and with its query sorted, or None when it is not
        on this site."""
        parts = urlsplit(urldefrag(url).url)
        if f"{parts.scheme}://{parts.netloc}" != self.server:
            return None
        query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        return self.server + parts.path + (f"?{query}" if query else "")

    def route(self, address: str) -> str | None:
        """What ``address`` counts against: its endpoint and its query's keys, so that
        ``?page=2`` and ``?page=3`` are one route; None for a link not to check."""
        parts = urlsplit(address)
        try:
            endpoint, _ = self.app.url_map.bind("localhost").match(parts.path, method="GET")
        except (RequestRedirect, HTTPException):
            return parts.path  # a redirect, or a broken link: visited, and reported
        if endpoint in SKIPPED_ENDPOINTS:
            return None
        keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
        return f"{endpoint}?{'&'.join(keys)}"


def check(page: Page, url: str) -> tuple[str | None, list[str]]:
    """Open ``url``: what is wrong there (a failing status, axe's violations) and its links."""
    response = page.goto(url)
    assert response is not None
    if not response.headers.get("content-type", "").startswith("text/html"):
        return None, []
    if response.status >= 400:
        return f"{url} answered {response.status}", []
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
    violations = axe_violations(page)
    return (f"axe on {url}:\n{describe(violations)}" if violations else None), hrefs


def test_every_page_a_link_reaches_has_no_wcag_violation_in_english_or_spanish(
    open_page, live_app, live_server, admin
):
    pages = {language: open_page(language) for language in BROWSERS}
    for page in pages.values():
        log_in(page, live_server, admin)
    crawl = Crawl(live_app, live_server)
    for url in [live_server + "/", live_server + "/organisers/", *mail_links(live_app)]:
        crawl.add(url)

    problems, checked = [], 0
    while crawl.queue and checked < MAX_PAGES:
        url, first_of_route = crawl.queue.popleft()
        for language, page in pages.items():
            if language == "es" and not first_of_route:
                continue
            problem, hrefs = check(page, url)
            if problem:
                problems.append(f"[{language}] {problem}")
            for href in hrefs:
                crawl.add(href)
        checked += 1
    assert not problems, "\n\n".join(problems)
    # The crawl went everywhere: both sides of the site, and pages only a mail links to.
    for route in ["events.show_event?", "attendees.list_attendees?", "registration.manage?"]:
        assert route in crawl.per_route, f"the crawl missed {route}: it saw {sorted(crawl.seen)}"


def submit_empty(page: Page, form: str) -> None:
    """Clear the text fields of the form matched by ``form`` and submit it."""
    fields = page.locator(f"{form} :is(input[type=text], input[type=email], textarea)")
    for index in range(fields.count()):
        fields.nth(index).fill("")
    with page.expect_navigation():
        page.locator(f"{form} [type=submit]").first.click()


@pytest.mark.parametrize("language", BROWSERS)
def test_forms_showing_their_errors_have_no_wcag_violation(open_page, live_server, admin, language):
    page = open_page(language)
    # A visitor's forms, and the login pages, refused: the whole page again, with its errors.
    public = [
        (f"/events/{DEMO_EVENT_SLUG}", "form.registration-form"),
        (f"/statements/{DEMO_STATEMENT_SLUG}", "form.registration-form"),
        ("/organisers/login", "form.narrow-form"),
        ("/organisers/password/forgot", "form.narrow-form"),
    ]
    for path, form in public:
        page.goto(live_server + path)
        submit_empty(page, form)
        assert page.locator(ERRORS).count() > 0, page.url
        assert_accessible(page)
    # What a visitor sees once a form is accepted, and a page that is not there.
    for path, form in public[:2]:
        page.goto(live_server + path)
        page.fill(f"{form} input[name=name]", "Rosa Mamani")
        page.fill(f"{form} input[name=email]", f"axe-{language}-{admin}")
        online = page.locator(f"{form} input[name=mode][value=online]")
        if online.count():  # the hybrid demo meeting asks how one takes part
            online.check()
        with page.expect_navigation():
            page.locator(f"{form} [type=submit]").click()
        assert page.locator(ERRORS).count() == 0, page.url
        assert_accessible(page)
    page.goto(live_server + "/events/no-such-event")
    assert_accessible(page)

    # The organisers' forms that start empty.
    log_in(page, live_server, admin)
    organisers = [
        ("/organisers/events/new", "form.event-form"),
        ("/organisers/statements/new", "form.event-form"),
        (f"/organisers/events/{DEMO_EVENT_SLUG}/questions", "form.narrow-form"),
        (f"/organisers/events/{DEMO_EVENT_SLUG}/messages", "form.message-form"),
        ("/organisers/invitations/new", "form.narrow-form"),
        ("/organisers/password", "form.narrow-form"),
    ]
    for path, form in organisers:
        page.goto(live_server + path)
        submit_empty(page, form)
        assert page.locator(ERRORS).count() > 0, page.url
        assert_accessible(page)

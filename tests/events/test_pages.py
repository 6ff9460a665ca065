"""Public event pages as a visitor sees them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest

from tests.events.fixtures import SECRET_JOIN_URL

FUTURE = datetime(2030, 6, 3, 18, 30, tzinfo=UTC)


def text_of(response) -> str:
    """The visible text of a page, whitespace folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(strong|em|span|a|b|i|time|code)\b[^>]*>", "", html)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_event_page_shows_what_people_need(client, make_event):
    make_event()
    response = client.get("/events/solidarity-meeting")
    assert response.status_code == 200
    page = text_of(response)
    assert "Solidarity meeting" in page
    assert "Monday 19 April 2027, 18:30 BST" in page
    assert "until 20:00 BST" in page
    assert "13:30 in La Paz" in page
    assert "Ollie Vargas, Journalist" in page
    assert "Chair: Christine Blower, LFPLA" in page
    assert "Supported by Labour Friends of Progressive Latin America" in page
    assert "Friends of Bolivia presents" in page
    assert "The joining link is emailed to everyone who registers." in page
    assert "<strong>organise</strong>" in response.get_data(as_text=True)


def test_an_event_with_no_speakers_yet_still_takes_registrations(client, make_event):
    make_event(people=[])
    response = client.get("/events/solidarity-meeting")
    assert 'name="email"' in response.get_data(as_text=True)
    assert "people-heading" not in response.get_data(as_text=True)  # no empty speakers list


def test_in_person_event_shows_venue_not_joining_note(client, make_event):
    make_event(format="in_person", venue="Marx Memorial Library", address="37a Clerkenwell Green")
    page = text_of(client.get("/events/solidarity-meeting"))
    assert "Marx Memorial Library" in page
    assert "37a Clerkenwell Green" in page
    assert "In person" in page
    assert "joining link" not in page


def test_online_event_hides_any_stored_venue(client, make_event):
    make_event(format="online", venue="Secret back room")
    assert "Secret back room" not in text_of(client.get("/events/solidarity-meeting"))


def test_share_links_are_plain_urls_to_the_event(client, make_event):
    make_event()
    html = client.get("/events/solidarity-meeting").get_data(as_text=True)
    url = "https%3A%2F%2Fevents.example.org%2Fevents%2Fsolidarity-meeting"
    for prefix in (
        "https://www.facebook.com/sharer/sharer.php?u=" + url,
        "https://wa.me/?text=",
        "https://t.me/share/url?url=" + url,
        "https://x.com/intent/post?",
        "mailto:?subject=",
    ):
        assert prefix in html
    assert not re.search(r'<(img|script|iframe)[^>]+src="https?://', html)
    assert not re.search(r'<link[^>]+rel="(stylesheet|icon|preload)"[^>]+href="https?://', html)


def test_open_graph_card(client, make_event):
    make_event()
    html = client.get("/events/solidarity-meeting").get_data(as_text=True)
    assert '<meta property="og:title" content="Solidarity meeting">' in html
    assert (
        '<meta property="og:url" content="https://events.example.org/events/solidarity-meeting">'
        in html
    )
    assert "<title>Solidarity meeting · Friends of Bolivia</title>" in html


def test_joining_url_never_on_public_pages(client, make_event):
    make_event()
    make_event(
        slug="past-meeting",
        starts_at="2020-01-01T18:00:00+00:00",
        ends_at="2020-01-01T19:00:00+00:00",
    )
    for path in (
        "/",
        "/events/past",
        "/events/solidarity-meeting",
        "/events/past-meeting",
        "/events/solidarity-meeting.ics",
        "/events.ics",
        "/api/events",
        "/api/events/solidarity-meeting",
        "/language/es?next=/events/solidarity-meeting",
    ):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert SECRET_JOIN_URL not in body, path
        assert "secret-room" not in body, path
        assert "ollie@example.org" not in body, path


def test_drafts_are_not_public(client, make_event):
    make_event(status="draft")
    assert client.get("/events/solidarity-meeting").status_code == 404
    assert client.get("/events/solidarity-meeting.ics").status_code == 404
    assert client.get("/api/events/solidarity-meeting").status_code == 404
    assert "Solidarity meeting" not in text_of(client.get("/"))
    assert client.get("/api/events").get_json() == {"events": []}


def test_unknown_slug_is_a_friendly_404(client):
    response = client.get("/events/no-such-meeting")
    assert response.status_code == 404
    page = text_of(response)
    assert "Page not found" in page
    assert "See upcoming events" in page


def test_cancelled_event_says_so(client, make_event):
    make_event(status="cancelled")
    response = client.get("/events/solidarity-meeting")
    assert response.status_code == 200
    assert "This event has been cancelled." in text_of(response)
    assert "Cancelled" in text_of(client.get("/"))


def test_listing_upcoming_next_first_and_past_separately(client, make_event):
    make_event(
        slug="later",
        title="Later meeting",
        starts_at=(FUTURE + timedelta(days=7)).isoformat(),
        ends_at=(FUTURE + timedelta(days=7, hours=2)).isoformat(),
    )
    make_event(
        slug="sooner",
        title="Sooner meeting",
        starts_at=FUTURE.isoformat(),
        ends_at=(FUTURE + timedelta(hours=2)).isoformat(),
    )
    make_event(
        slug="done",
        title="Finished meeting",
        starts_at="2021-04-19T18:30:00+01:00",
        ends_at="2021-04-19T20:00:00+01:00",
    )
    home = text_of(client.get("/"))
    assert home.index("Sooner meeting") < home.index("Later meeting")
    assert "Finished meeting" not in home
    past = client.get("/events/past")
    assert "Finished meeting" in text_of(past)
    assert "Sooner meeting" not in text_of(past)
    done = text_of(client.get("/events/done"))
    assert "This event has taken place." in done


def test_past_events_paginate(client, make_event):
    for day in range(1, 23):
        make_event(
            slug=f"past-{day}",
            title=f"Past meeting {day}",
            starts_at=f"2020-03-{day:02d}T18:00:00+00:00",
            ends_at=f"2020-03-{day:02d}T19:00:00+00:00",
        )
    first = text_of(client.get("/events/past"))
    assert "Past meeting 22" in first
    assert "Past meeting 2 " not in first
    assert "Older" in first
    second = text_of(client.get("/events/past?page=2"))
    assert "Past meeting 2 " in second
    assert "Past meeting 22" not in second
    assert client.get("/events/past?page=0").status_code == 404
    assert client.get("/events/past?page=99999999999999999999").status_code == 404
    assert client.get("/events/past?page=abc").status_code == 200


class ActiveContent(HTMLParser):
    """Collects what a browser would run or follow: script-ish tags, on* handlers, bad URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "img", "svg", "style"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src") and (value or "").strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.found.append(f"{tag}[{name}={value}]")


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<iframe src="https://evil.example"></iframe>',
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_markdown_in_description_is_harmless(client, make_event, source):
    make_event(description=f"Before\n\n{source}\n\n[a real link](https://example.org)\n\nAfter")
    html = client.get("/events/solidarity-meeting").get_data(as_text=True)
    description = html[
        html.index('class="event__description') : html.index(
            "</section>", html.index('class="event__description')
        )
    ]
    assert "Before" in description and "After" in description
    assert (
        '<a href="https://example.org" rel="nofollow noopener noreferrer">a real link</a>'
        in description
    )
    checker = ActiveContent()
    checker.feed(description)
    assert checker.found == []


def test_titles_and_names_are_escaped(client, make_event):
    make_event(
        title="<script>alert('t')</script>",
        people=[{"name": "<b onmouseover=alert(1)>Eve</b>", "role": "speaker"}],
        supporters=['"><svg onload=alert(1)>'],
    )
    html = client.get("/events/solidarity-meeting").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<b onmouseover" not in html
    assert "<svg onload" not in html
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in html

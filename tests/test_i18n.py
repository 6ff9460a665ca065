"""English and Spanish: the switch, Accept-Language, and complete catalogues."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from service import PROJECT_ROOT
from service.catalogues import catalogue_problems
from tests.events.test_pages import text_of


def test_catalogues_are_complete():
    assert catalogue_problems(PROJECT_ROOT) == []


def test_accept_language_picks_spanish(client):
    html = client.get("/", headers={"Accept-Language": "es-BO,es;q=0.9"}).get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Próximos eventos" in html


def test_switch_is_remembered_in_a_cookie(client, make_event):
    make_event()
    response = client.get("/language/es?next=/events/solidarity-meeting")
    assert response.status_code == 302
    assert response.headers["Location"] == "/events/solidarity-meeting"
    cookie = response.headers["Set-Cookie"]
    assert "convoca_lang=es" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = text_of(client.get("/events/solidarity-meeting", headers={"Accept-Language": "en"}))
    assert "Reunión de solidaridad" in page
    assert "Nos reunimos para organizarnos." in page
    assert "Ponentes" in page
    client.get("/language/en")
    assert "Upcoming events" in text_of(client.get("/"))


def test_switch_never_redirects_off_site(client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "evil"):
        response = client.get("/language/es", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_unknown_language_is_ignored(client):
    response = client.get("/language/xx")
    assert "Set-Cookie" not in response.headers
    assert response.status_code == 302


def test_spanish_falls_back_to_english_content(client, make_event):
    make_event(title_es=None, summary_es=None, description_es=None)
    page = text_of(client.get("/events/solidarity-meeting", headers={"Accept-Language": "es"}))
    assert "Solidarity meeting" in page
    assert "We meet to organise." in page
    assert "Ponentes" in page


class _InterfaceText(HTMLParser):
    """Visible text outside the parts organisers write (names, titles, descriptions)."""

    CONTENT_CLASSES = (
        "prose",
        "event__summary",
        "people",
        "chair",
        "event__supporters",
        "event__host",
        "site-name",
        "event-card__title",
        "share-url",
    )

    def __init__(self) -> None:
        super().__init__()
        self.depth_in_content = 0
        self.stack: list[bool] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("meta", "link", "input", "br", "hr", "img"):
            return
        classes = dict(attrs).get("class") or ""
        is_content = any(name in classes.split() for name in self.CONTENT_CLASSES)
        is_content = is_content or tag in ("title", "h1", "address")
        self.stack.append(is_content)
        self.depth_in_content += is_content

    def handle_endtag(self, tag):
        if tag in ("meta", "link", "input", "br", "hr", "img") or not self.stack:
            return
        self.depth_in_content -= self.stack.pop()

    def handle_data(self, data):
        if not self.depth_in_content and data.strip():
            self.chunks.append(data.strip())


def test_spanish_pages_have_no_english_interface_text(client, make_event):
    """Every interface string the English page shows is replaced on the Spanish page."""
    make_event()
    make_event(slug="cancelled", status="cancelled", format="hybrid", venue="Hall")
    with (PROJECT_ROOT / "service/translations/es/LC_MESSAGES/messages.po").open("rb") as po:
        catalogue = read_po(po)
    english_only = {
        str(message.id)
        for message in catalogue
        if message.id and message.id != message.string and "%" not in str(message.id)
    }
    for path in ("/", "/events/past", "/events/solidarity-meeting", "/events/cancelled", "/nope"):
        parser = _InterfaceText()
        parser.feed(client.get(path, headers={"Accept-Language": "es"}).get_data(as_text=True))
        leftovers = [chunk for chunk in parser.chunks if chunk in english_only]
        assert leftovers == [], path
        assert not any(
            re.fullmatch(r"[A-Z][a-z]+ \d+ [A-Z][a-z]+ \d{4}.*", c) for c in parser.chunks
        )

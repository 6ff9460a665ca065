"""Headers and input handling that protect every page."""

from __future__ import annotations

import re

import pytest

PAGES = [
    "/",
    "/events/past",
    "/events/solidarity-meeting",
    "/events/solidarity-meeting.ics",
    "/events.ics",
    "/api/events",
    "/api/events/solidarity-meeting",
    "/events/no-such-event",
    "/static/style.css",
    "/healthz",
]


@pytest.fixture
def published(make_event):
    make_event()


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(client, published, path):
    response = client.get(path)
    response.close()
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "max-age=" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("path", ["/", "/events/solidarity-meeting", "/events/past", "/nope"])
def test_pages_have_no_inline_script_or_style(client, published, path):
    html = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html)  # only our own files
    assert "<style" not in html
    assert " style=" not in html
    assert " onclick=" not in html and " onload=" not in html


class TestDebug:
    @pytest.fixture
    def app_config(self):
        return {"DEBUG": True}

    def test_no_hsts_in_debug(self, client):
        assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/events/bad%00slug", 404),
        ("/events/bad%00slug.ics", 404),
        ("/api/events/bad%00slug", 404),
        ("/events/past?page=1%00", 400),
        ("/?q=%00", 400),
        ("/language/es?next=/%00", 400),
    ],
)
def test_nul_bytes_get_a_clear_page_not_a_500(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert "Friends of Bolivia" in response.get_data(as_text=True)  # the site's own layout


def test_nul_byte_error_is_explained(client):
    body = client.get("/?q=%00").get_data(as_text=True)
    assert "a character we cannot accept" in body


def test_nul_byte_error_in_spanish(client):
    body = client.get("/?q=%00", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "un carácter que no podemos aceptar" in body


class TestServerError:
    def test_500_page_in_the_layout(self, app):
        app.config["PROPAGATE_EXCEPTIONS"] = False

        @app.get("/boom")
        def boom():
            raise RuntimeError("boom")

        response = app.test_client().get("/boom")
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "Something went wrong" in body
        assert "Upcoming events" in body or "Events" in body
        assert "RuntimeError" not in body
        assert response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "target",
    ["/%0afoo", "/%0d%0aSet-Cookie:%20x=1", "/%09/evil.example", "/\\evil.example", "//evil"],
)
def test_the_language_switch_never_follows_a_broken_or_foreign_next(client, target):
    response = client.get(f"/language/es?next={target}")
    assert response.status_code == 302
    assert response.location == "/"


def test_the_language_switch_returns_to_the_page_it_came_from(client, published):
    response = client.get("/language/es?next=/events/solidarity-meeting?x=1")
    assert response.location == "/events/solidarity-meeting?x=1"


def test_calendar_files_name_their_charset_once(client, published):
    for path in ("/events/solidarity-meeting.ics", "/events.ics"):
        assert client.get(path).headers["Content-Type"] == "text/calendar; charset=utf-8"

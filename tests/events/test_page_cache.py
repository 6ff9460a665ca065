"""The public pages' short cache: fast for crowds, still one CSRF token per visitor."""

from __future__ import annotations

import re

import pytest

from tests.events.test_pages import text_of
from tests.mail.fixtures import smtp_config

CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "PAGE_CACHE_SECONDS": 60, "RATELIMIT_ENABLED": False}


def test_event_page_is_served_from_the_cache_until_it_expires(app, client, make_event):
    make_event(title="First title")
    assert "First title" in text_of(client.get("/events/solidarity-meeting"))
    make_event(title="Second title")
    assert "First title" in text_of(client.get("/events/solidarity-meeting"))
    with app.app_context():
        from service.extensions import cache

        cache.clear()
    assert "Second title" in text_of(client.get("/events/solidarity-meeting"))


def test_each_language_has_its_own_copy(client, make_event):
    make_event()
    assert "Speakers" in text_of(client.get("/events/solidarity-meeting"))
    spanish = client.get("/events/solidarity-meeting", headers={"Accept-Language": "es"})
    assert "Ponentes" in text_of(spanish)


def test_every_visitor_gets_their_own_working_form_token(app, make_event):
    make_event()
    first, second = app.test_client(), app.test_client()
    first_token = CSRF.search(first.get("/events/solidarity-meeting").get_data(as_text=True))[1]
    second_page = second.get("/events/solidarity-meeting").get_data(as_text=True)
    second_token = CSRF.search(second_page)[1]
    assert first_token != second_token
    assert "__convoca_csrf_token__" not in second_page
    response = second.post(
        "/events/solidarity-meeting/register",
        data={"csrf_token": second_token, "name": "Ana", "email": "ana@example.org"},
    )
    assert response.status_code == 302
    stolen = first.post(
        "/events/solidarity-meeting/register",
        data={"csrf_token": second_token, "name": "Eve", "email": "eve@example.org"},
    )
    assert stolen.status_code == 400

"""Every absolute link starts with PUBLIC_URL: a request naming another Host (or, behind a
trusted proxy, X-Forwarded-Host) cannot make a page, feed or the API point elsewhere."""

from __future__ import annotations

import pytest

from service.mail import service as mail
from service.urls import absolute_url
from tests.statements.fixtures import SLUG as STATEMENT_SLUG

PUBLIC = "https://events.example.org"
FORGED = "evil.example"
EVENT = "solidarity-meeting"
PAGES = [
    f"/events/{EVENT}",
    f"/events/{EVENT}.ics",
    "/events.ics",
    "/api/events",
    f"/api/events/{EVENT}",
    f"/statements/{STATEMENT_SLUG}",
]


@pytest.fixture
def app_config():
    return {"TRUSTED_PROXIES": 1}


@pytest.fixture
def published(make_event, make_statement):
    make_event()
    make_statement()


def unfold(body: str) -> str:
    """An .ics file folds long lines (RFC 5545): unfold them before searching."""
    return body.replace("\r\n ", "")


@pytest.mark.parametrize("path", PAGES)
def test_a_forged_host_changes_no_absolute_link(client, published, path):
    honest = unfold(client.get(path).get_data(as_text=True))
    forged = client.get(path, base_url=f"http://{FORGED}", headers={"X-Forwarded-Host": FORGED})
    assert forged.status_code == 200
    body = unfold(forged.get_data(as_text=True))
    assert PUBLIC in body
    assert FORGED not in body
    assert body.count(PUBLIC) == honest.count(PUBLIC)


def test_the_event_pages_canonical_and_share_links_use_public_url(client, published):
    body = client.get(f"/events/{EVENT}", base_url=f"http://{FORGED}").get_data(as_text=True)
    assert f'<link rel="canonical" href="{PUBLIC}/events/{EVENT}">' in body
    assert f'<meta property="og:url" content="{PUBLIC}/events/{EVENT}">' in body
    assert "https%3A%2F%2Fevents.example.org%2Fevents%2Fsolidarity-meeting" in body  # shared


def test_links_in_mail_use_public_url(app):
    with app.test_request_context("/", base_url=f"http://{FORGED}"):
        assert absolute_url("events.show_event", slug=EVENT) == f"{PUBLIC}/events/{EVENT}"
        link = mail.unsubscribe_link("ana@example.org", mail.MessageKind.REMINDER)
        assert link.startswith(f"{PUBLIC}/unsubscribe/")
    with app.app_context():  # the dispatcher renders mail outside any request
        assert absolute_url("events.show_event", slug=EVENT) == f"{PUBLIC}/events/{EVENT}"


class TestUnsetInTests:
    """Tests and debug without PUBLIC_URL link to the local server, still never to the Host."""

    @pytest.fixture
    def app_config(self):
        return {"PUBLIC_URL": ""}

    @pytest.mark.parametrize("path", [f"/events/{EVENT}", f"/api/events/{EVENT}"])
    def test_a_forged_host_is_not_linked_to(self, client, published, path):
        body = client.get(path, base_url=f"http://{FORGED}").get_data(as_text=True)
        assert FORGED not in body
        assert f"http://127.0.0.1:5000/events/{EVENT}" in body

"""A signer sees their own name on the statement's page right after confirming, though public
pages are cached: the confirmation clears that statement's pages, and only those, in the
memory cache and in Redis."""

from __future__ import annotations

import uuid

import pytest

from tests.events.test_pages import text_of
from tests.mail.fixtures import smtp_config
from tests.registration.fixtures import csrf_token
from tests.statements.fixtures import PATH, deliver, link, sign

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["SimpleCache", "RedisCache"])
def app_config(request, smtp):
    config = {**smtp_config(smtp), "PAGE_CACHE_SECONDS": 60, "RATELIMIT_ENABLED": False}
    config["CACHE_TYPE"] = request.param
    if request.param == "RedisCache":
        config["CACHE_REDIS_URL"] = REDIS_URL
        config["CACHE_KEY_PREFIX"] = f"test-{uuid.uuid4().hex}:"  # apart from anyone else's
    return config


def confirm(client, smtp, app, address: str) -> None:
    deliver(app)
    [message] = smtp.to(address)
    path = link(message, "confirm")
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 200


def test_the_signer_sees_their_name_on_the_next_request(
    app, client, smtp, make_statement, add_signatories
):
    statement = make_statement()
    other = make_statement(slug="another-statement", title="Another statement")
    add_signatories(statement.id, ["Rosa Mamani"])
    # Both pages are now in the cache (in English, and one with a query too).
    assert "1 person has signed" in text_of(client.get(PATH))
    assert "Rosa Mamani" in text_of(client.get(f"{PATH}?order=name"))
    assert "0 people have signed" in text_of(client.get("/statements/another-statement"))
    add_signatories(other.id, ["Luis Arce"])  # straight into the database: no clearing
    assert "Luis Arce" not in text_of(client.get("/statements/another-statement"))

    sign(client, name="Ana Flores", email="ana@example.org")
    confirm(client, smtp, app, "ana@example.org")

    page = text_of(client.get(PATH))
    assert "Ana Flores" in page and "2 people have signed" in page
    assert "Ana Flores" in text_of(client.get(f"{PATH}?order=name"))
    # Another statement's cached page was left alone.
    assert "Luis Arce" not in text_of(client.get("/statements/another-statement"))


def test_withdrawing_takes_the_name_off_at_once(app, client, smtp, statement):
    sign(client, name="Ana Flores", email="ana@example.org")
    confirm(client, smtp, app, "ana@example.org")
    assert "Ana Flores" in text_of(client.get(PATH))
    [message] = smtp.to("ana@example.org")
    path = link(message, "withdraw")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert "Ana Flores" not in text_of(client.get(PATH))

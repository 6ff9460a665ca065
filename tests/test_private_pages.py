"""Pages that show someone's personal data are kept by no cache, and the address someone typed
never rides in their session cookie (on a shared computer the next person could read it)."""

from __future__ import annotations

import pytest

from service.organisers import service as organisers
from tests.mail.fixtures import smtp_config
from tests.organisers.conftest import PASSWORD, Account, logged_in, manager_of
from tests.registration.fixtures import csrf_token, submit_registration
from tests.registration.test_register import deliver, links
from tests.statements.fixtures import deliver as deliver_signatures
from tests.statements.fixtures import link, sign

EMAIL = "ana@example.org"


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


def session_contents(app, client) -> str:
    cookie = client.get_cookie("session")
    if cookie is None:
        return ""
    return str(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def assert_not_stored(response) -> None:
    assert response.headers.get("Cache-Control") == "no-store", response.request.path


def test_a_registrants_pages_are_never_stored_and_the_cookie_holds_no_address(
    app, client, smtp, make_event
):
    make_event()
    response = submit_registration(client, email=EMAIL)
    assert_not_stored(response)
    next_steps = client.get(response.location)
    assert_not_stored(next_steps)
    assert EMAIL not in next_steps.get_data(as_text=True)
    assert "ana" not in session_contents(app, client)

    deliver(app)
    [confirmation] = smtp.to(EMAIL)
    personal = links(confirmation)
    assert_not_stored(client.get(personal["manage"]))
    assert_not_stored(client.get(personal["join"]))
    token = csrf_token(client, personal["manage"])
    assert_not_stored(client.post(personal["manage"] + "/cancel", data={"csrf_token": token}))


def test_a_signers_pages_are_never_stored_and_the_cookie_holds_no_address(
    app, client, smtp, statement
):
    response = sign(client, email=EMAIL)
    assert_not_stored(response)
    check_inbox = client.get(response.location)
    assert_not_stored(check_inbox)
    assert EMAIL not in check_inbox.get_data(as_text=True)
    assert "ana" not in session_contents(app, client)

    deliver_signatures(app)
    [message] = smtp.to(EMAIL)
    assert_not_stored(client.get(link(message, "confirm")))
    assert_not_stored(client.get(link(message, "withdraw")))


def test_every_organisers_page_is_never_stored(app, client, make_event):
    event = make_event()
    assert_not_stored(client.get("/organisers/login"))
    with app.app_context():
        rosa_id = organisers.create_organiser("rosa@example.org", PASSWORD).id
    logged_in(client, manager_of(app, Account(rosa_id, "rosa@example.org", PASSWORD), event.id))
    for path in ("/organisers/", "/organisers/events/solidarity-meeting/attendees"):
        assert_not_stored(client.get(path))
    path = "/organisers/events/solidarity-meeting/attendees"
    export = client.post(
        "/organisers/events/solidarity-meeting/export.csv",
        data={"csrf_token": csrf_token(client, path), "columns": ["name"]},
    )
    assert export.status_code == 200
    export.close()
    assert_not_stored(export)


def test_public_pages_may_be_cached(client, make_event):
    make_event()
    assert client.get("/events/solidarity-meeting").headers.get("Cache-Control") != "no-store"

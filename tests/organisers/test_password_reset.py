"""Resetting a forgotten password: the same page whether or not the address has an account,
a link valid for an hour and once, every other session ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.audit.models import AuditEntry
from service.extensions import db
from tests.events.test_pages import text_of
from tests.organisers.conftest import PASSWORD, logged_in, login
from tests.organisers.mailbox import delivered_to, link_in
from tests.registration.fixtures import csrf_token

FORGOT = "/organisers/password/forgot"
RESET = "/organisers/password/reset/"
NEW_PASSWORD = "a brand new long password"


def ask_for_a_link(client, email):
    return client.post(FORGOT, data={"csrf_token": csrf_token(client, FORGOT), "email": email})


def choose(client, path, password=NEW_PASSWORD, repeat=None):
    token = csrf_token(client, FORGOT)
    return client.post(
        path, data={"csrf_token": token, "password": password, "repeat": repeat or password}
    )


def test_the_login_page_links_to_the_reset(client):
    assert FORGOT in client.get("/organisers/login").get_data(as_text=True)


def test_a_reset_sets_the_password_and_ends_every_other_session(app, client, organiser):
    elsewhere = logged_in(app.test_client(), organiser)
    assert elsewhere.get("/organisers/").status_code == 200
    sent = ask_for_a_link(client, organiser.email.upper())
    assert sent.status_code == 200
    [message] = delivered_to(app, organiser.email)
    path = link_in(message, RESET)

    assert client.get(path).status_code == 200
    done = choose(client, path)
    assert done.status_code == 302 and done.location == "/organisers/login"
    assert elsewhere.get("/organisers/").status_code == 302  # logged out there
    assert login(app.test_client(), organiser.email, PASSWORD).status_code == 401
    assert login(app.test_client(), organiser.email, NEW_PASSWORD).status_code == 302
    with app.app_context():
        entries = list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
    password_entries = [entry.action for entry in entries if entry.action.startswith("password")]
    assert password_entries == ["password.reset_requested", "password.reset"]
    assert all(organiser.email not in entry.detail for entry in entries)


def test_the_link_works_once(app, client, organiser):
    ask_for_a_link(client, organiser.email)
    path = link_in(delivered_to(app, organiser.email)[0], RESET)
    assert choose(client, path).status_code == 302
    again = app.test_client()
    used = again.get(path)
    assert used.status_code == 404
    assert "This link does not work" in text_of(used)
    assert choose(again, path, password="yet another password here").status_code == 404
    assert login(app.test_client(), organiser.email, NEW_PASSWORD).status_code == 302


def test_the_link_expires_after_an_hour(app, client, organiser, monkeypatch):
    ask_for_a_link(client, organiser.email)
    path = link_in(delivered_to(app, organiser.email)[0], RESET)
    import itsdangerous.timed

    real_now = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner,
        "get_timestamp",
        lambda self: real_now(self) + int(timedelta(minutes=61).total_seconds()),
    )
    assert client.get(path).status_code == 404
    assert choose(client, path).status_code == 404


def test_an_unknown_address_gets_the_same_page_and_no_mail(app, client, organiser):
    known = ask_for_a_link(client, organiser.email)
    unknown = ask_for_a_link(app.test_client(), "nobody@example.org")
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data() == known.get_data()  # the same bytes: nothing tells them apart
    assert delivered_to(app, "nobody@example.org") == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1


def test_a_disabled_account_gets_no_link(app, client, organiser, admin):
    with app.app_context():
        from service.organisers import service

        service.disable_organiser(organiser.email)
    assert ask_for_a_link(client, organiser.email).status_code == 200
    assert delivered_to(app, organiser.email) == []


def test_bad_input_is_explained(app, client, organiser):
    empty = ask_for_a_link(client, "")
    assert empty.status_code == 200 and "Forgot your password?" in text_of(empty)
    assert ask_for_a_link(client, "nul\x00@example.org").status_code == 200
    ask_for_a_link(client, organiser.email)
    path = link_in(delivered_to(app, organiser.email)[0], RESET)
    short = choose(client, path, password="short")
    assert short.status_code == 400 and "Use at least 12 characters." in text_of(short)
    differ = choose(client, path, repeat="something else entirely")
    assert differ.status_code == 400 and "The two passwords differ." in text_of(differ)
    assert client.get(f"{RESET}forged").status_code == 404


def test_in_spanish_the_mail_is_spanish(app, client, organiser):
    client.get("/language/es")
    page = ask_for_a_link(client, organiser.email)
    assert "Revisa tu correo" in text_of(page)
    [message] = delivered_to(app, organiser.email)
    assert "contraseña" in str(message["Subject"])


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"MAIL_BACKEND": "memory", "PASSWORD_RESET_RATE_LIMIT": "2 per minute"}

    def test_too_many_requests_are_refused(self, client, organiser):
        assert ask_for_a_link(client, organiser.email).status_code == 200
        assert ask_for_a_link(client, "nobody@example.org").status_code == 200
        assert ask_for_a_link(client, "nobody@example.org").status_code == 429

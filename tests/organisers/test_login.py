"""Logging in and out: one answer for every failure, sessions that end, no open redirect."""

from __future__ import annotations

import uuid

import pytest
import redis
from sqlalchemy import select

from service.extensions import db
from service.organisers import service
from service.organisers.models import Organiser
from tests.events.test_pages import text_of
from tests.ops.test_proxies import behind_proxy
from tests.organisers.conftest import (
    PASSWORD,
    csrf_token,
    logged_in,
    login,
)

FAILED = "That email and password do not match an active account."


def stored(app, email: str) -> Organiser:
    with app.app_context():
        organiser = db.session.scalar(select(Organiser).where(Organiser.email == email))
        db.session.expunge(organiser)
        return organiser


def test_the_right_password_opens_the_dashboard(app, client, organiser):
    response = login(client, "  Rosa@Example.ORG ", PASSWORD)  # typed as people type it
    assert response.status_code == 302
    assert response.location == "/organisers/"
    dashboard = client.get("/organisers/")
    assert dashboard.status_code == 200
    assert "rosa@example.org" in text_of(dashboard)
    assert stored(app, "rosa@example.org").last_login_at is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(client, organiser):
    wrong_password = login(client, "rosa@example.org", "not the password at all")
    unknown_email = login(client, "nobody@example.org", "not the password at all")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert FAILED in text_of(wrong_password)
    # The same page, word for word, apart from the address typed in (a form value, not text).
    assert text_of(wrong_password) == text_of(unknown_email)
    assert client.get("/organisers/").status_code == 302


def test_a_disabled_account_cannot_log_in(app, client, organiser):
    with app.app_context():
        service.disable_organiser(organiser.email)
    response = login(client, organiser.email, organiser.password)
    assert response.status_code == 401
    assert FAILED in text_of(response)
    assert client.get("/organisers/").status_code == 302


def test_disabling_an_account_ends_its_session(app, client, organiser):
    logged_in(client, organiser)
    key_before = stored(app, organiser.email).session_key
    assert client.get("/organisers/").status_code == 200

    with app.app_context():
        service.disable_organiser(organiser.email)

    assert stored(app, organiser.email).session_key != key_before
    response = client.get("/organisers/")
    assert response.status_code == 302
    assert response.location.startswith("/organisers/login")


def test_changing_the_password_ends_the_other_sessions(app, organiser):
    phone, laptop = app.test_client(), app.test_client()
    logged_in(phone, organiser)
    logged_in(laptop, organiser)
    key_before = stored(app, organiser.email).session_key

    new_password = "a much longer new password"
    response = laptop.post(
        "/organisers/password",
        data={
            "csrf_token": csrf_token(laptop, "/organisers/password"),
            "current": PASSWORD,
            "new": new_password,
            "repeat": new_password,
        },
    )
    assert response.status_code == 302
    assert response.location == "/organisers/"

    account = stored(app, organiser.email)
    assert account.session_key != key_before
    assert account.password_hash.startswith("$argon2id$")
    assert laptop.get("/organisers/").status_code == 200  # the session that changed it goes on
    assert phone.get("/organisers/").status_code == 302  # the other one is logged out

    assert login(app.test_client(), organiser.email, PASSWORD).status_code == 401
    assert login(app.test_client(), organiser.email, new_password).status_code == 302


def test_a_wrong_current_password_changes_nothing(app, client, organiser):
    logged_in(client, organiser)
    before = stored(app, organiser.email)
    response = client.post(
        "/organisers/password",
        data={
            "csrf_token": csrf_token(client, "/organisers/password"),
            "current": "not my password at all",
            "new": "a much longer new password",
            "repeat": "a much longer new password",
        },
    )
    assert response.status_code == 200
    assert "That is not your current password." in text_of(response)
    after = stored(app, organiser.email)
    assert (after.password_hash, after.session_key) == (before.password_hash, before.session_key)


def test_a_too_short_new_password_is_refused(app, client, organiser):
    logged_in(client, organiser)
    before = stored(app, organiser.email).password_hash
    response = client.post(
        "/organisers/password",
        data={
            "csrf_token": csrf_token(client, "/organisers/password"),
            "current": PASSWORD,
            "new": "short",
            "repeat": "short",
        },
    )
    assert response.status_code == 200
    assert "Use at least 12 characters." in text_of(response)
    assert stored(app, organiser.email).password_hash == before


def test_logging_out_ends_the_session(client, organiser):
    logged_in(client, organiser)
    token = csrf_token(client, "/organisers/")
    response = client.post("/organisers/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.location == "/organisers/login"
    assert client.get("/organisers/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "https://evil.example/organisers/",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "/%09/evil.example",  # a tab browsers drop, leaving //evil.example
        "javascript:alert(1)",
        "/%0afoo",  # a line break would split the Location header
        "/%0d%0aSet-Cookie:%20session=stolen",
        "/organisers/%5c%5cevil.example",
        "/%E2%80%A8x",  # a Unicode line separator
    ],
)
def test_next_cannot_send_anyone_to_another_site(client, organiser, target):
    response = login(client, organiser.email, organiser.password, next_path=target)
    assert response.status_code == 302
    assert response.location == "/organisers/"


def test_a_session_cookie_copied_before_logout_opens_nothing_after(app, client, organiser):
    logged_in(client, organiser)
    copied = client.get_cookie("session").value
    client.post("/organisers/logout", data={"csrf_token": csrf_token(client, "/organisers/")})

    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/organisers/")
    assert response.status_code == 302
    assert response.location.startswith("/organisers/login")


def test_next_within_the_site_is_followed(client, organiser, make_event):
    make_event()
    target = "/organisers/events/solidarity-meeting/attendees"
    anonymous = client.get(target)
    assert (
        anonymous.location
        == "/organisers/login?next=%2Forganisers%2Fevents%2Fsolidarity-meeting%2Fattendees"
    )
    response = login(client, organiser.email, organiser.password, next_path=target)
    assert response.location == target


def test_logging_in_starts_a_fresh_session(client, organiser):
    """Nothing from before the login carries over (session fixation)."""
    client.get("/organisers/login")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    logged_in(client, organiser)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"].startswith(f"{organiser.id}:")


def test_session_cookie_is_httponly_and_same_site_lax(client, organiser):
    response = login(client, organiser.email, organiser.password)
    cookies = [
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    ]
    assert cookies
    attributes = {
        part.strip().split("=")[0].lower(): part.strip() for part in cookies[-1].split(";")
    }
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"


def test_passwords_are_stored_as_argon2id_hashes(app, organiser):
    account = stored(app, organiser.email)
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


def test_a_live_site_hashes_at_argon2id_full_cost(app, client, make_organiser):
    """The suite hashes cheaply (TEST_FAST_PASSWORD_HASHING); a live site as RFC 9106 says."""
    app.config["TEST_FAST_PASSWORD_HASHING"] = False
    account = make_organiser("rosa@example.org")
    assert stored(app, account.email).password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert login(client, account.email, "not my password at all").status_code == 401
    assert login(app.test_client(), "nobody@example.org", PASSWORD).status_code == 401
    assert logged_in(client, account).get("/organisers/").status_code == 200


def test_the_session_key_is_not_the_password_hash(app, client, organiser):
    logged_in(client, organiser)
    with client.session_transaction() as session:
        user_id = session["_user_id"]
    account = stored(app, organiser.email)
    assert user_id == f"{account.id}:{account.session_key}"
    assert account.password_hash not in user_id


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "3 per minute",
            "MAIL_BACKEND": "memory",
        }

    def test_too_many_attempts_get_429(self, client, organiser):
        for _attempt in range(3):
            assert login(client, organiser.email, "wrong password, again").status_code == 401
        refused = login(client, organiser.email, organiser.password)  # even the right one
        assert refused.status_code == 429
        assert "Please wait a minute and try again." in text_of(refused)
        assert client.get("/organisers/").status_code == 302  # not logged in
        assert client.get("/organisers/login").status_code == 200  # the form still shows


class TestRateLimitPerAccount:
    @pytest.fixture
    def app_config(self):
        return {
            "TRUSTED_PROXIES": 1,
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "100 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
            "MAIL_BACKEND": "memory",
        }

    def test_failed_logins_to_one_account_are_limited_from_any_number_of_addresses(
        self, app, organiser, make_organiser
    ):
        for n, spelling in enumerate(("rosa@example.org", " ROSA@example.org", "Rosa@Example.org")):
            attempt = login(behind_proxy(app, f"203.0.113.{n}"), spelling, "wrong")
            assert attempt.status_code == 401
            assert FAILED in text_of(attempt)
        refused = login(behind_proxy(app, "198.51.100.1"), organiser.email, organiser.password)
        assert refused.status_code == 429  # even the right password, from a new address
        assert "Please wait a minute and try again." in text_of(refused)
        other = make_organiser("ines@example.org")
        assert login(behind_proxy(app, "203.0.113.0"), other.email, "wrong").status_code == 401

    def test_logging_in_with_the_right_password_uses_up_no_attempts(self, app, organiser):
        for n in range(4):
            visitor = behind_proxy(app, f"203.0.113.{n}")
            assert login(visitor, organiser.email, organiser.password).status_code == 302
        assert login(behind_proxy(app, "203.0.113.9"), organiser.email, "wrong").status_code == 401


class TestRateLimitStorage:
    PREFIX = f"convoca-test-{uuid.uuid4().hex}"

    @pytest.fixture
    def app_config(self):
        return {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
            "RATELIMIT_KEY_PREFIX": self.PREFIX,
            "MAIL_BACKEND": "memory",
        }

    def test_the_shared_counters_hold_no_email_address(self, client, organiser):
        assert login(client, organiser.email, "wrong").status_code == 401
        store = redis.Redis.from_url("redis://127.0.0.1:6379/14")
        try:
            keys = [key.decode() for key in store.scan_iter(f"*{self.PREFIX}*")]
            assert any("/127.0.0.1/" in key for key in keys)  # per address
            assert any("/login-account:" in key for key in keys)  # and per account
            assert not any("rosa" in key.lower() for key in keys)
            store.delete(*keys)
        finally:
            store.close()

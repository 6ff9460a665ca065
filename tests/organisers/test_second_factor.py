"""The second factor: set up from the page (the code computed from the key it shows), asked
for after the password, each code once, recovery codes once each, turned off with the
password, rate-limited, and required for every account with REQUIRE_2FA."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.extensions import db
from service.organisers import totp
from service.organisers.models import Organiser, RecoveryCode
from service.organisers.second_factor import PENDING_KEY
from service.security import CONTENT_SECURITY_POLICY
from tests.events.test_pages import text_of
from tests.ops.test_proxies import behind_proxy
from tests.organisers.conftest import csrf_token, logged_in, login

SETUP = "/organisers/second-factor/setup"
CODE_STEP = "/organisers/second-factor"
NO_MATCH = "That code does not match."
SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z0-9-]{14})</code></li>")


def next_code(secret: str) -> str:
    """The app's code for the next time step (accepted: one step either side), so it is
    not the step the set-up or an earlier login already used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def set_up(client: FlaskClient) -> tuple[str, list[str]]:
    """Turn the second factor on as a person does; the key and the recovery codes shown."""
    page = client.get(SETUP)
    assert page.status_code == 200
    [secret] = SECRET.findall(page.get_data(as_text=True))
    confirmed = client.post(
        SETUP,
        data={"csrf_token": csrf_token(client, SETUP), "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 200, text_of(confirmed)
    codes = RECOVERY.findall(confirmed.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def send_code(client: FlaskClient, code: str):
    return client.post(CODE_STEP, data={"csrf_token": csrf_token(client, CODE_STEP), "code": code})


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def enrolled(app, client, organiser) -> tuple[str, list[str]]:
    """Rosa with the second factor on; ``client`` logged out again."""
    logged_in(client, organiser)
    secret, codes = set_up(client)
    client.post("/organisers/logout", data={"csrf_token": csrf_token(client, SETUP)})
    return secret, codes


def test_the_set_up_page_draws_the_qr_code_as_svg_in_the_page(client, organiser):
    logged_in(client, organiser)
    page = client.get(SETUP)
    html = page.get_data(as_text=True)
    assert "<svg" in html and "data:" not in html
    assert 'style="' not in html  # the strict CSP (no inline style) lets it draw
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert page.headers["Cache-Control"] == "no-store"
    [secret] = SECRET.findall(html)
    assert client.get(SETUP).get_data(as_text=True).count(secret) == 1  # the same key


def test_a_wrong_first_code_leaves_it_off(app, client, organiser):
    logged_in(client, organiser)
    client.get(SETUP)
    refused = client.post(SETUP, data={"csrf_token": csrf_token(client, SETUP), "code": "000000"})
    assert refused.status_code == 400
    assert NO_MATCH in text_of(refused)
    with app.app_context():
        assert db.session.get(Organiser, organiser.id).totp_confirmed_at is None


def test_login_asks_for_the_code_after_the_password(app, client, organiser, enrolled):
    secret, _codes = enrolled
    password_step = login(
        client, organiser.email, organiser.password, next_path="/organisers/password"
    )
    assert password_step.location == CODE_STEP
    assert client.get("/organisers/").status_code == 302  # not logged in yet
    before_the_code = actions(app)
    assert before_the_code[-1] == "login.password"  # the record says no login yet
    response = send_code(client, next_code(secret))
    assert response.status_code == 302
    assert response.location == "/organisers/password"
    assert client.get("/organisers/").status_code == 200
    assert "second_factor.enabled" in actions(app)
    assert actions(app)[len(before_the_code)] == "login"


def test_a_wrong_code_gets_the_generic_error(app, client, organiser, enrolled):
    login(client, organiser.email, organiser.password)
    refused = send_code(client, "123456")
    assert refused.status_code == 401
    assert NO_MATCH in text_of(refused)
    assert client.get("/organisers/").status_code == 302
    assert "login.failed_code" in actions(app)
    assert send_code(client, "12\x0034").status_code == 400  # bad input: an error, no 500


def test_a_code_is_not_accepted_twice(app, organiser, enrolled):
    secret, _codes = enrolled
    code = next_code(secret)
    first, second = app.test_client(), app.test_client()
    login(first, organiser.email, organiser.password)
    assert send_code(first, code).status_code == 302
    login(second, organiser.email, organiser.password)
    replayed = send_code(second, code)
    assert replayed.status_code == 401
    assert NO_MATCH in text_of(replayed)


def test_the_code_step_without_a_password_sends_to_the_login(client, organiser, enrolled):
    response = client.get(CODE_STEP)
    assert response.status_code == 302
    assert response.location.startswith("/organisers/login")


def test_the_code_step_expires(client, organiser, enrolled):
    secret, _codes = enrolled
    login(client, organiser.email, organiser.password)
    token = csrf_token(client, CODE_STEP)
    with client.session_transaction() as session:  # five minutes on: as if it were later
        session[PENDING_KEY] = {**session[PENDING_KEY], "until": int(time.time()) - 1}
    response = client.post(CODE_STEP, data={"csrf_token": token, "code": next_code(secret)})
    assert response.status_code == 302
    assert response.location.startswith("/organisers/login")


def test_a_recovery_code_works_once(app, organiser, enrolled):
    _secret, codes = enrolled
    first = app.test_client()
    login(first, organiser.email, organiser.password)
    assert send_code(first, codes[0].upper().replace("-", " ")).status_code == 302
    assert first.get("/organisers/").status_code == 200
    again = app.test_client()
    login(again, organiser.email, organiser.password)
    assert send_code(again, codes[0]).status_code == 401
    assert "9 unused recovery codes left." in text_of(first.get(SETUP))
    assert "second_factor.recovery_code_used" in actions(app)
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not any(code in hashed for code in codes for hashed in stored)


def test_the_key_is_kept_sealed_and_survives_a_new_secret_key_with_the_old_as_fallback(
    app, organiser, enrolled
):
    secret, codes = enrolled
    with app.app_context():
        stored = db.session.get(Organiser, organiser.id).totp_secret
    assert secret not in stored and secret.lower() not in stored.lower()  # a dump tells nothing

    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="a new key after a leak", SECRET_KEY_FALLBACKS=[old_key])
    rotated = app.test_client()
    login(rotated, organiser.email, organiser.password)
    assert send_code(rotated, next_code(secret)).status_code == 302
    # That login sealed it again under the new key: the old one can be forgotten.
    app.config["SECRET_KEY_FALLBACKS"] = []
    in_two_minutes = datetime.now(UTC) + timedelta(minutes=2)
    with app.app_context():
        rosa = db.session.get(Organiser, organiser.id)
        assert totp.verify(rosa, pyotp.TOTP(secret).at(in_two_minutes), in_two_minutes)

    # Under a key it was never sealed with, the app's codes open nothing (refused, not an
    # error), and a recovery code still lets the person in.
    app.config["SECRET_KEY"] = "yet another key"
    in_four_minutes = in_two_minutes + timedelta(minutes=2)
    with app.app_context():
        rosa = db.session.get(Organiser, organiser.id)
        assert not totp.verify(rosa, pyotp.TOTP(secret).at(in_four_minutes), in_four_minutes)
    forgotten = app.test_client()
    login(forgotten, organiser.email, organiser.password)
    assert send_code(forgotten, codes[0]).status_code == 302


def test_a_live_site_hashes_recovery_codes_at_owasp_cost(app, client, organiser):
    app.config["TEST_FAST_PASSWORD_HASHING"] = False
    logged_in(client, organiser)
    _secret, codes = set_up(client)
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10
    assert all(code_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for code_hash in hashes)
    client.post("/organisers/logout", data={"csrf_token": csrf_token(client, SETUP)})
    login(client, organiser.email, organiser.password)
    assert send_code(client, codes[3]).location == "/organisers/"


def test_new_recovery_codes_replace_the_old_ones(app, client, organiser, enrolled):
    secret, old_codes = enrolled
    login(client, organiser.email, organiser.password)
    send_code(client, next_code(secret))
    path = "/organisers/second-factor/recovery-codes"
    wrong = client.post(path, data={"csrf_token": csrf_token(client, SETUP), "password": "nope"})
    assert wrong.status_code == 400
    made = client.post(
        path, data={"csrf_token": csrf_token(client, SETUP), "password": organiser.password}
    )
    new_codes = RECOVERY.findall(made.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    other = app.test_client()
    login(other, organiser.email, organiser.password)
    assert send_code(other, old_codes[1]).status_code == 401
    assert send_code(other, new_codes[1]).status_code == 302


def test_turning_it_off_needs_the_password_or_a_code(app, client, organiser, enrolled):
    secret, _codes = enrolled
    login(client, organiser.email, organiser.password)
    send_code(client, next_code(secret))
    path = "/organisers/second-factor/disable"
    refused = client.post(
        path, data={"csrf_token": csrf_token(client, SETUP), "password_or_code": "wrong"}
    )
    assert refused.status_code == 400
    assert NO_MATCH in text_of(refused)
    turned_off = client.post(
        path, data={"csrf_token": csrf_token(client, SETUP), "password_or_code": organiser.password}
    )
    assert turned_off.status_code == 302
    assert "second_factor.disabled" in actions(app)
    fresh = app.test_client()
    assert login(fresh, organiser.email, organiser.password).location == "/organisers/"
    with app.app_context():
        assert db.session.scalars(select(RecoveryCode)).all() == []


def test_the_second_factor_page_is_linked_from_the_organisers_area(client, organiser):
    logged_in(client, organiser)
    assert f'href="{SETUP}"' in client.get("/organisers/").get_data(as_text=True)


def test_the_pages_speak_spanish(client, organiser, enrolled):
    client.set_cookie("convoca_lang", "es")
    login(client, organiser.email, organiser.password)
    refused = send_code(client, "654321")
    assert "Ese código no coincide." in text_of(refused)


class TestRequired:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": False, "MAIL_BACKEND": "memory", "REQUIRE_2FA": True}

    def test_an_account_without_it_can_only_set_it_up(self, client, organiser):
        logged_in(client, organiser)
        for path in ("/organisers/", "/organisers/password", "/organisers/statements"):
            response = client.get(path)
            assert response.status_code == 302, path
            assert response.location == SETUP
        assert client.get(SETUP).status_code == 200
        assert client.get("/").status_code == 200  # the public site is not the gate's
        set_up(client)
        assert client.get("/organisers/").status_code == 200

    def test_logging_out_still_works(self, client, organiser):
        logged_in(client, organiser)
        out = client.post("/organisers/logout", data={"csrf_token": csrf_token(client, SETUP)})
        assert out.location == "/organisers/login"


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {
            "TRUSTED_PROXIES": 1,
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "100 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
            "MAIL_BACKEND": "memory",
        }

    def test_wrong_codes_for_one_account_are_limited_from_any_address(
        self, app, organiser, enrolled
    ):
        secret, _codes = enrolled
        for n in range(3):
            visitor = behind_proxy(app, f"203.0.113.{n}")
            login(visitor, organiser.email, organiser.password)
            assert send_code(visitor, "000000").status_code == 401
        visitor = behind_proxy(app, "198.51.100.1")
        login(visitor, organiser.email, organiser.password)
        refused = send_code(visitor, next_code(secret))  # even the right code
        assert refused.status_code == 429
        assert "Please wait a minute and try again." in text_of(refused)


class TestRateLimitPerAddress:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_too_many_codes_from_one_address_get_429(self, client, organiser, enrolled):
        # The set-up's own code used one of the address's three tries on the set-up page only.
        login(client, organiser.email, organiser.password)
        for _attempt in range(3):
            assert send_code(client, "000000").status_code == 401
        assert send_code(client, "000000").status_code == 429

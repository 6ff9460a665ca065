"""Bad input, forged requests, bots and floods: clear answers, nothing stored wrongly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.registration.models import Registration
from tests.events.test_pages import text_of
from tests.registration.fixtures import submit_registration

FUTURE = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def event(make_event):
    return make_event(
        starts_at=FUTURE.isoformat(), ends_at=(FUTURE + timedelta(hours=2)).isoformat()
    )


def stored(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            tuple(row) for row in db.session.execute(select(Registration.name, Registration.email))
        ]


def test_missing_csrf_token_is_refused(app, client):
    response = client.post(
        "/events/solidarity-meeting/register", data={"name": "Ana", "email": "ana@example.org"}
    )
    assert response.status_code == 400
    assert stored(app) == []


def test_honeypot_filled_stores_nothing_but_looks_the_same(app, client):
    response = submit_registration(client, website="http://spam.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/events/solidarity-meeting/registered"
    assert stored(app) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "Please enter a valid email address"),
        ({"email": "ana@"}, "Please enter a valid email address"),
        ({"email": ""}, "Please enter your email address."),
        ({"name": ""}, "Please tell us your name."),
        ({"name": "x" * 10_000}, "Field cannot be longer than 200 characters."),
        ({"name": "Ana\x00Flores"}, "Please remove the invisible control characters"),
        ({"name": "Ana\x07\x1b[31m"}, "Please remove the invisible control characters"),
        ({"organisation": "Union\u202eevil"}, "Please remove the invisible control characters"),
    ],
)
def test_bad_input_gets_a_clear_message_and_keeps_the_rest(app, client, fields, message):
    response = submit_registration(client, **{"organisation": "Friends of Bolivia", **fields})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in text_of(response)
    assert 'value="Friends of Bolivia"' in page or "organisation" in fields
    assert 'aria-invalid="true"' in page
    assert stored(app) == []


def test_bad_input_in_spanish(client):
    client.get("/language/es")
    response = submit_registration(client, email="nope")
    assert "Escribe una dirección de correo válida" in text_of(response)


@pytest.mark.parametrize("name", ["Ana 🌹 Flores", "María José Ñúñez", "李小龙", "👩‍💻 Dev"])
def test_names_in_any_script_and_emoji_are_stored_as_written(app, client, name):
    assert submit_registration(client, name=name).status_code == 302
    assert stored(app) == [(name, "ana@example.org")]


def test_markup_in_a_name_is_inert_on_every_page(app, client, smtp):
    submit_registration(client, name="<script>alert(1)</script>")
    assert stored(app) == [("<script>alert(1)</script>", "ana@example.org")]
    page = client.get("/events/solidarity-meeting/registered").get_data(as_text=True)
    assert "<script>alert(1)" not in page


class TestRateLimit:
    @pytest.fixture
    def app_config(self, smtp):
        from tests.mail.fixtures import smtp_config

        return {
            **smtp_config(smtp),
            "RATELIMIT_ENABLED": True,
            "REGISTRATION_RATE_LIMIT": "3 per minute",
        }

    def test_too_many_posts_get_a_friendly_429(self, app, client):
        for number in range(3):
            assert submit_registration(client, email=f"p{number}@example.org").status_code == 302
        response = submit_registration(client, email="p4@example.org")
        assert response.status_code == 429
        assert "Please wait a minute and try again." in text_of(response)
        assert client.get("/events/solidarity-meeting").status_code == 200  # reading is fine
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Registration)) == 3

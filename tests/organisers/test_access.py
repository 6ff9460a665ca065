"""Every route under /organisers (the organisers' own and each area's management pages), walked
as a stranger, as an organiser and as an admin.

The routes come from the app's own URL map, so a route added later is walked too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, url_for

from service import create_app
from service.csv_export import ExportRecord
from service.db import utc_now
from service.events.models import EventPerson, Question, QuestionKind
from service.extensions import db
from service.mail.models import MessageKind, MessageStatus, OutboxMessage
from service.organisers import service
from service.statements import service as statements
from tests.conftest import base_config
from tests.organisers.conftest import logged_in, snapshot
from tests.registration.fixtures import csrf_token

ADMIN_ONLY = {"organisers.accounts", "organisers.set_account_active", "audit.list_entries"}
ADMIN_ONLY.add("manage_site.edit_site")
# Open to everyone: tested in test_login.py, test_invitations.py and test_password_reset.py.
NOT_WALKED = {
    "organisers.login",
    "welcome.accept",
    "welcome.forgot_password",
    "welcome.reset_password",
}
# The code after the password: open to whoever just gave the right password, before logging
# in (test_second_factor.py).
NOT_WALKED.add("second_factor.code")


def _organiser_routes() -> list[tuple[str, str, str]]:
    """(method, endpoint, rule) of every route under /organisers but the login, whichever
    area's blueprint it belongs to."""
    app = create_app(base_config("sqlite://"))
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/organisers/") or rule.endpoint in NOT_WALKED:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.endpoint, rule.rule))
    return routes


ROUTES = _organiser_routes()
GET_ROUTES = [route for route in ROUTES if route[0] == "GET"]
POST_ROUTES = [route for route in ROUTES if route[0] == "POST"]


def test_the_walk_covers_the_whole_area():
    """A guard on the walk itself: the area's routes are all here, and nothing else is."""
    endpoints = {endpoint for _method, endpoint, _rule in ROUTES}
    assert {
        "organisers.dashboard",
        "attendees.list_attendees",
        "attendees.check_in",
        "attendees.export_attendees",
        "organisers.accounts",
        "organisers.change_password",
        "organisers.logout",
        "organisers.retry_failed_mail",
        "manage_statements.list_statements",
        "manage_statements.signatures",
        "manage_statements.moderate_signature",
        "manage_events.edit_event",
        "manage_events.questions",
        "attendees.compose_message",
    } <= endpoints
    assert {endpoint.partition(".")[0] for endpoint in endpoints} == {
        "organisers",
        "manage_events",
        "event_copies",
        "attendees",
        "manage_followups",
        "door",
        "manage_statements",
        "audit",
        "welcome",
        "second_factor",
        "team",
        "manage_speakers",
        "manage_site",
    }
    assert endpoints >= ADMIN_ONLY
    assert GET_ROUTES and POST_ROUTES


@pytest.fixture
def site(app: Flask, make_event, make_registration):
    """An event with a registration and a question, a failed message the retry button would
    touch, and a statement of the same slug with a signature: something for every route's
    arguments to name."""
    event = make_event()
    registration = make_registration(
        event.id, "ana@example.org", created_at=datetime(2027, 3, 1, 12, tzinfo=UTC)
    )
    with app.app_context():
        question = Question(
            event_id=event.id, kind=QuestionKind.SHORT_TEXT, label="Which union are you in?"
        )
        db.session.add(question)
        db.session.add(
            OutboxMessage(
                dedupe_key="failed-1",
                kind=MessageKind.CONFIRMATION,
                recipient="ana@example.org",
                template="mail/confirmation",
                message_id="<failed-1@example.org>",
                status=MessageStatus.FAILED,
                attempts=10,
                next_attempt_at=utc_now() + timedelta(days=1),
                last_error="550 no such user",
            )
        )
        db.session.commit()
        question_id = question.id
        person_id = db.session.scalars(sa.select(EventPerson.id)).first()
        statement = statements.save_statement(
            None,
            {"slug": event.slug, "title": "Solidarity", "body": "We stand with you."},
            utc_now(),
        )
        organiser_id = service.create_organiser("other@example.org", "a long enough password").id
        signature_id = statements.add_confirmed_signature(
            statement.id, statements.Signer("Rosa", "rosa@example.org"), "en", utc_now()
        ).id
    return {
        "slug": event.slug,
        "registration_id": registration.id,
        "question_id": question_id,
        "signature_id": signature_id,
        "action": "hide",
        "organiser_id": organiser_id,
        "invitation_id": 1,
        "person_id": person_id,
    }


def path_of(app: Flask, endpoint: str, site: dict) -> str:
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    missing = rule.arguments - site.keys()
    assert not missing, f"{rule.rule}: give the site fixture a real {', '.join(missing)}"
    with app.test_request_context():
        return url_for(endpoint, **{name: site[name] for name in rule.arguments})


def form_for(endpoint: str) -> dict:
    """What the page's own form would send for ``endpoint`` (less the CSRF token)."""
    return {
        "attendees.export_attendees": {"columns": ["name", "email"]},
        "attendees.check_in": {"checked_in": "1"},
        "organisers.change_password": {
            "current": "correct horse battery staple",
            "new": "a brand new long password",
            "repeat": "a brand new long password",
        },
    }.get(endpoint, {})


def assert_sent_to_login(response, path: str | None) -> None:
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.path == "/organisers/login"
    if path is not None:
        assert parse_qs(location.query)["next"] == [path]


# --- Strangers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "endpoint", "rule"), GET_ROUTES, ids=lambda value: value)
def test_a_stranger_is_sent_to_log_in(app, client, site, method, endpoint, rule):
    path = path_of(app, endpoint, site)
    response = client.get(path)
    assert_sent_to_login(response, path)


@pytest.mark.parametrize(("method", "endpoint", "rule"), POST_ROUTES, ids=lambda value: value)
def test_a_strangers_post_changes_nothing(app, client, site, method, endpoint, rule):
    path = path_of(app, endpoint, site)
    before = snapshot(app)

    without_token = client.post(path, data=form_for(endpoint))
    assert without_token.status_code == 400  # CSRF refused before anything else

    token = csrf_token(client, "/organisers/login")  # a stranger can get one from the form
    with_token = client.post(path, data={"csrf_token": token, **form_for(endpoint)})
    assert with_token.status_code != 200
    # logout is open to all (it only ends a session), so it has no next; the rest keep it.
    assert_sent_to_login(with_token, None if endpoint == "organisers.logout" else path)
    assert not with_token.get_data(as_text=True).startswith("name")  # no CSV leaked

    assert snapshot(app) == before


# --- Organisers and admins ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "endpoint", "rule"), GET_ROUTES, ids=lambda value: value)
def test_an_organiser_sees_every_page_but_the_admins(
    app, client, site, organiser, method, endpoint, rule
):
    logged_in(client, organiser)
    response = client.get(path_of(app, endpoint, site))
    assert response.status_code == (403 if endpoint in ADMIN_ONLY else 200)


@pytest.mark.parametrize(("method", "endpoint", "rule"), GET_ROUTES, ids=lambda value: value)
def test_an_admin_sees_every_page(app, client, site, admin, method, endpoint, rule):
    logged_in(client, admin)
    assert client.get(path_of(app, endpoint, site)).status_code == 200


def test_accounts_page_lists_the_accounts_for_admins_only(app, client, site, admin, organiser):
    logged_in(client, admin)
    page = client.get("/organisers/accounts").get_data(as_text=True)
    assert "rosa@example.org" in page and "admin@example.org" in page
    assert 'href="/organisers/accounts"' in client.get("/organisers/").get_data(as_text=True)

    other = app.test_client()
    logged_in(other, organiser)
    assert 'href="/organisers/accounts"' not in other.get("/organisers/").get_data(as_text=True)
    forbidden = other.get("/organisers/accounts")
    assert forbidden.status_code == 403
    assert "admin@example.org" not in forbidden.get_data(as_text=True)


@pytest.mark.parametrize(("method", "endpoint", "rule"), POST_ROUTES, ids=lambda value: value)
def test_an_organisers_post_without_csrf_token_is_refused(
    app, client, site, organiser, method, endpoint, rule
):
    logged_in(client, organiser)
    before = snapshot(app)
    response = client.post(path_of(app, endpoint, site), data=form_for(endpoint))
    assert response.status_code == 400
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.query(ExportRecord).count() == 0
    assert client.get("/organisers/").status_code == 200  # still logged in (logout refused too)


@pytest.mark.parametrize(("method", "endpoint", "rule"), POST_ROUTES, ids=lambda value: value)
def test_an_organisers_post_with_a_foreign_csrf_token_is_refused(
    app, client, site, organiser, method, endpoint, rule
):
    """A token from someone else's session (a forged form on another site) is no better."""
    foreign = csrf_token(app.test_client(), "/organisers/login")
    logged_in(client, organiser)
    before = snapshot(app)
    response = client.post(
        path_of(app, endpoint, site), data={"csrf_token": foreign, **form_for(endpoint)}
    )
    assert response.status_code == 400
    assert snapshot(app) == before

"""The role matrix: every management route (events, attendees, statements, teams) walked as
each role, on the event or statement the role is on and on someone else's. The routes come
from the app's URL map, so a route added later is walked too, and must be in ``ALLOWED``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask, url_for

from service import create_app
from service.access import service as access
from service.access.models import EventRole, StatementRole
from service.events.models import EventPerson, Question, QuestionKind
from service.extensions import db
from service.statements import service as statements
from tests.conftest import base_config
from tests.organisers.conftest import Account, logged_in
from tests.registration.fixtures import csrf_token

BLUEPRINTS = {
    "manage_events",
    "event_copies",
    "manage_speakers",
    "attendees",
    "manage_followups",
    "door",
    "manage_statements",
    "team",
    "manage_site",
}
ROLES = ["admin", "manager", "door", "viewer", "statement manager", "moderator", "no role"]
EVENT_ROLES = {"manager": EventRole.MANAGER, "door": EventRole.DOOR, "viewer": EventRole.VIEWER}
STATEMENT_ROLES = {
    "statement manager": StatementRole.MANAGER,
    "moderator": StatementRole.MODERATOR,
}
MAY_CREATE = {"admin", "manager", "statement manager", "no role"}

# Which roles may use each route on their own event or statement (admins always may). A role
# on the same kind of thing but not listed gets 403; an account with no role on it, 404.
ALLOWED = {
    "manage_events.edit_event": {"manager"},
    "manage_events.change_status": {"manager"},
    "manage_events.cancel_event": {"manager"},
    "manage_events.reinstate_event": {"manager"},
    "manage_events.preview_event": {"manager", "viewer"},
    "manage_events.scheduled_mail": {"manager"},
    "manage_events.questions": {"manager"},
    "manage_events.remove_question": {"manager"},
    "event_copies.duplicate_event": {"manager"},
    "event_copies.repeat_event": {"manager"},
    "event_copies.show_series": {"manager"},
    "manage_speakers.list_speakers": {"manager"},
    "manage_speakers.invite_speaker": {"manager"},
    "attendees.list_attendees": {"manager", "door", "viewer"},
    "attendees.check_in": {"manager", "door"},
    "attendees.resend_confirmation": {"manager"},
    "attendees.cancel_registration": {"manager"},
    "attendees.export_attendees": {"manager"},
    "attendees.compose_message": {"manager"},
    "manage_followups.edit_follow_up": {"manager"},
    "manage_followups.send_test": {"manager"},
    "door.door_page": {"manager", "door"},
    "door.check_in": {"manager", "door"},
    "door.undo_check_in": {"manager", "door"},
    "team.event_team": {"manager"},
    "team.event_member_role": {"manager"},
    "team.remove_event_member": {"manager"},
    "manage_statements.edit_statement": {"statement manager"},
    "manage_statements.preview_statement": {"statement manager", "moderator"},
    "manage_statements.signatures": {"statement manager", "moderator"},
    "manage_statements.moderate_signature": {"statement manager", "moderator"},
    "manage_statements.export_signatures": {"statement manager"},
    "team.statement_team": {"statement manager"},
    "team.statement_member_role": {"statement manager"},
    "team.remove_statement_member": {"statement manager"},
}
# The routes that name one of our event's registrations or our statement's signatures.
NAMES_OURS = {
    "attendees.check_in",
    "door.check_in",
    "manage_speakers.invite_speaker",
    "attendees.resend_confirmation",
    "attendees.cancel_registration",
    "manage_statements.moderate_signature",
}
# The routes that name no event or statement.
WITHOUT_SLUG = {
    "manage_events.new_event": MAY_CREATE,
    "manage_statements.new_statement": MAY_CREATE,
    "manage_statements.list_statements": set(ROLES),
    "manage_site.edit_site": {"admin"},
}


def _management_routes() -> list[tuple[str, str]]:
    app = create_app(base_config("sqlite://"))
    return sorted(
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in BLUEPRINTS
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


ROUTES = _management_routes()


def test_every_management_route_is_in_the_matrix():
    assert {endpoint for _method, endpoint in ROUTES} == ALLOWED.keys() | WITHOUT_SLUG.keys()


@pytest.fixture
def site(app: Flask, make_event, make_registration, make_statement, make_organiser):
    """Our event and statement (the walked account's role is on them) and someone else's,
    each with a registration or a signature, a question, and a helper on each team."""
    ours = make_event()
    theirs = make_event(slug="someone-elses-meeting", title="Someone else's meeting")
    registration = make_registration(
        ours.id, "ana@example.org", created_at=datetime(2027, 3, 1, tzinfo=UTC)
    )
    make_registration(theirs.id, "eva@example.org", created_at=datetime(2027, 3, 1, tzinfo=UTC))
    our_statement = make_statement()
    their_statement = make_statement(slug="someone-elses-statement")
    helper = make_organiser("helper@example.org")
    with app.app_context():
        question = Question(event_id=ours.id, kind=QuestionKind.SHORT_TEXT, label="Union?")
        db.session.add(question)
        db.session.commit()
        signature = statements.add_confirmed_signature(
            our_statement.id, statements.Signer("Rosa", "rosa@example.org"), "en", datetime.now(UTC)
        )
        for event_id in (ours.id, theirs.id):
            access.grant_event_role(helper.id, event_id, EventRole.MANAGER)
        for statement_id in (our_statement.id, their_statement.id):
            access.grant_statement_role(helper.id, statement_id, StatementRole.MANAGER)
        return {
            "event": ours,
            "statement": our_statement,
            "slugs": {
                "event": (ours.slug, theirs.slug),
                "statement": (our_statement.slug, their_statement.slug),
            },
            "registration_id": registration.id,
            "question_id": question.id,
            "person_id": db.session.scalars(
                sa.select(EventPerson.id).where(EventPerson.event_id == ours.id)
            ).first(),
            "signature_id": signature.id,
            "action": "hide",
            "organiser_id": helper.id,
        }


@pytest.fixture
def account_with(app: Flask, make_organiser, site):
    def make(role: str) -> Account:
        account = make_organiser("walker@example.org", admin=role == "admin")
        with app.app_context():
            if role in EVENT_ROLES:
                access.grant_event_role(account.id, site["event"].id, EVENT_ROLES[role])
            if role in STATEMENT_ROLES:
                access.grant_statement_role(account.id, site["statement"].id, STATEMENT_ROLES[role])
        return account

    return make


FORMS = {
    "attendees.check_in": {"checked_in": "1"},
    "attendees.export_attendees": {"columns": ["name"]},
    "manage_statements.export_signatures": {"columns": ["name"]},
    "manage_events.change_status": {"status": "published"},
    "manage_speakers.invite_speaker": {"language": "en"},
    "team.event_member_role": {"role": "viewer"},
    "team.statement_member_role": {"role": "moderator"},
    "team.event_team": {"email": "helper@example.org", "role": "viewer"},
    "team.statement_team": {"email": "helper@example.org", "role": "moderator"},
}


def path_of(app: Flask, endpoint: str, site: dict, slug: str | None) -> str:
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    values = {name: site[name] for name in rule.arguments - {"slug"}}
    if slug is not None:
        values["slug"] = slug
    with app.test_request_context():
        return url_for(endpoint, **values)


def answer(client, method: str, path: str, endpoint: str) -> int:
    if method == "GET":
        return client.get(path).status_code
    token = csrf_token(client, "/organisers/")
    return client.post(path, data={"csrf_token": token, **FORMS.get(endpoint, {})}).status_code


def expected(role: str, endpoint: str, own: bool) -> str:
    """``ok``, ``403`` or ``404``."""
    if endpoint in WITHOUT_SLUG:
        return "ok" if role in WITHOUT_SLUG[endpoint] else "403"
    if role == "admin":  # but a registration or signature of our event is not in theirs
        return "404" if not own and endpoint in NAMES_OURS else "ok"
    kind = "statement" if "statement" in endpoint else "event"
    roles_of_kind = STATEMENT_ROLES if kind == "statement" else EVENT_ROLES
    if not own or role not in roles_of_kind:
        return "404"
    return "ok" if role in ALLOWED[endpoint] else "403"


def outcome(method: str, status: int) -> str:
    if status in (403, 404):
        return str(status)
    ok = status == 200 if method == "GET" else status in (200, 302, 400)
    return "ok" if ok else f"unexpected {status}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "endpoint"), ROUTES, ids=lambda value: value)
def test_the_answer_for_each_route_and_role(
    app, client, site, account_with, role, method, endpoint
):
    logged_in(client, account_with(role))
    kind = "statement" if "statement" in endpoint else "event"
    targets = [(True, None)] if endpoint in WITHOUT_SLUG else []
    if not targets:
        ours, theirs = site["slugs"][kind]
        targets = [(False, theirs), (True, ours)]  # someone else's first: ours may change
    for own, slug in targets:
        status = answer(client, method, path_of(app, endpoint, site, slug), endpoint)
        assert outcome(method, status) == expected(role, endpoint, own), (slug, status)

"""What each role sees and does on the pages themselves: the door's list without emails, the
viewer without exports, the dashboard with only what the account may see, the creator of an
event as its manager, and the team page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from service.access import service as access
from service.access.models import (
    EventMember,
    EventRole,
    Invitation,
    InvitedEventRole,
    StatementRole,
)
from service.extensions import db
from service.registration.models import Registration
from tests.organisers.conftest import logged_in
from tests.organisers.test_event_editing import form as event_form
from tests.registration.fixtures import csrf_token

ATTENDEES = "/organisers/events/solidarity-meeting/attendees"
TEAM = "/organisers/events/solidarity-meeting/team"
WHEN = datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture
def event(make_event, make_registration):
    made = make_event()
    make_registration(made.id, "ana@example.org", name="Ana Flores", created_at=WHEN)
    return made


def with_role(app, make_organiser, event_id: int, role: EventRole, email="walker@example.org"):
    account = make_organiser(email)
    with app.app_context():
        access.grant_event_role(account.id, event_id, role)
    return account


def test_the_door_sees_names_and_checks_in_but_no_email(app, client, event, make_organiser):
    logged_in(client, with_role(app, make_organiser, event.id, EventRole.DOOR))
    page = client.get(ATTENDEES).get_data(as_text=True)
    assert "Ana Flores" in page
    assert "ana@example.org" not in page
    assert "export.csv" not in page and "/messages" not in page and "Cancel for them" not in page
    assert "Search by name or organisation" in page
    assert "Nobody matches" in client.get(f"{ATTENDEES}?q=ana@example").get_data(as_text=True)
    assert "Ana Flores" in client.get(f"{ATTENDEES}?q=flores").get_data(as_text=True)

    with app.app_context():
        registration_id = db.session.scalar(sa.select(Registration.id))
    checked = client.post(
        f"{ATTENDEES}/{registration_id}/check-in",
        data={"csrf_token": csrf_token(client, ATTENDEES), "checked_in": "1"},
    )
    assert checked.status_code == 302
    assert "Checked in" in client.get(ATTENDEES).get_data(as_text=True)
    export = client.post(
        "/organisers/events/solidarity-meeting/export.csv",
        data={"csrf_token": csrf_token(client, ATTENDEES), "columns": ["name"]},
    )
    assert export.status_code == 403


def test_the_viewer_sees_the_list_but_cannot_export(app, client, event, make_organiser):
    logged_in(client, with_role(app, make_organiser, event.id, EventRole.VIEWER))
    page = client.get(ATTENDEES).get_data(as_text=True)
    assert "ana@example.org" in page
    assert "export.csv" not in page and "Check in Ana" not in page
    export = client.post(
        "/organisers/events/solidarity-meeting/export.csv",
        data={"csrf_token": csrf_token(client, ATTENDEES), "columns": ["name", "email"]},
    )
    assert export.status_code == 403
    assert "ana@example.org" not in export.get_data(as_text=True)


def test_the_dashboard_lists_only_what_the_account_may_see(
    app, client, event, make_event, make_statement, make_organiser
):
    make_event(slug="someone-elses-meeting", title="Someone else's meeting")
    ours = make_statement(title="Our statement")
    make_statement(slug="theirs", title="Their statement")
    account = with_role(app, make_organiser, event.id, EventRole.VIEWER)
    with app.app_context():
        access.grant_statement_role(account.id, ours.id, StatementRole.MODERATOR)
    logged_in(client, account)
    for path in ("/organisers/", "/organisers/statements"):
        page = client.get(path).get_data(as_text=True)
        assert "Our statement" in page and "Their statement" not in page
    dashboard = client.get("/organisers/").get_data(as_text=True)
    assert "Solidarity meeting" in dashboard or event.title in dashboard
    assert "Someone else&#39;s meeting" not in dashboard and "Someone else's" not in dashboard
    assert "New event" not in dashboard  # a viewer and moderator creates nothing
    assert client.get("/organisers/events/someone-elses-meeting/attendees").status_code == 404


def test_whoever_creates_an_event_manages_it(app, client, make_organiser):
    account = make_organiser("new@example.org")
    logged_in(client, account)
    path = "/organisers/events/new"
    created = client.post(path, data=event_form(client, path))
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.execute(sa.select(EventMember.organiser_id, EventMember.role)).all() == [
            (account.id, EventRole.MANAGER)
        ]
    assert client.get("/organisers/events/bolivia-what-next/team").status_code == 200


def test_a_manager_runs_the_team(app, client, event, make_organiser):
    manager = with_role(app, make_organiser, event.id, EventRole.MANAGER)
    volunteer = make_organiser("volunteer@example.org", name="Volunteer")
    with app.app_context():
        invitation = Invitation(
            email="newcomer@example.org", expires_at=datetime(2999, 1, 1, tzinfo=UTC)
        )
        invitation.event_roles.append(InvitedEventRole(event_id=event.id, role=EventRole.DOOR))
        db.session.add(invitation)
        db.session.commit()
    logged_in(client, manager)
    page = client.get(TEAM).get_data(as_text=True)
    assert "newcomer@example.org" in page  # the invitation still open
    assert "/organisers/invitations/new?event=solidarity-meeting" in page

    unknown = client.post(
        TEAM,
        data={
            "csrf_token": csrf_token(client, TEAM),
            "email": "nobody@example.org",
            "role": "door",
        },
    )
    assert unknown.status_code == 400
    assert "invite them" in unknown.get_data(as_text=True)

    added = client.post(
        TEAM,
        data={"csrf_token": csrf_token(client, TEAM), "email": volunteer.email, "role": "door"},
    )
    assert added.status_code == 302
    with app.app_context():
        assert access.event_members(event.id)[-1].role is EventRole.DOOR

    token = csrf_token(client, TEAM)
    refused = client.post(f"{TEAM}/{manager.id}/remove", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "Every event needs a manager" in client.get(TEAM).get_data(as_text=True)
    client.post(f"{TEAM}/{volunteer.id}/remove", data={"csrf_token": token})
    with app.app_context():
        assert [member.organiser_id for member in access.event_members(event.id)] == [manager.id]


def test_an_admin_may_take_the_last_manager_off(app, client, event, make_organiser, admin):
    manager = with_role(app, make_organiser, event.id, EventRole.MANAGER)
    logged_in(client, admin)
    token = csrf_token(client, TEAM)
    assert client.post(f"{TEAM}/{manager.id}/remove", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert access.event_members(event.id) == []


def test_spanish_team_page(app, client, event, make_organiser):
    logged_in(client, with_role(app, make_organiser, event.id, EventRole.MANAGER))
    page = client.get(TEAM, headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Equipo" in page

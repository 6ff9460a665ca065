"""Invitations: an admin or a manager invites by email, the invitee chooses a password and
gets the roles; links expire, work once and can be revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.access.models import EventMember, EventRole, Invitation, StatementMember
from service.audit.models import AuditEntry
from service.db import unit_of_work, utc_now
from service.extensions import db
from service.organisers import invitations, service
from tests.events.test_pages import text_of
from tests.organisers.conftest import PASSWORD, Account, logged_in, login
from tests.organisers.mailbox import delivered_to, link_in
from tests.registration.fixtures import csrf_token


@pytest.fixture
def organiser(make_organiser) -> Account:
    """Rosa with no role anywhere: these tests give her the roles they are about."""
    return make_organiser("rosa@example.org", name="Rosa")


NEW = "/organisers/invitations/new"
WELCOME = "/organisers/welcome/"
INVITEE = "juana@example.org"


def invite_through_the_form(client, **fields):
    data = {"csrf_token": csrf_token(client, NEW), "email": INVITEE, **fields}
    return client.post(NEW, data=data)


def accept(client, path, name="Juana", password="juana's own password"):
    token = csrf_token(client, "/organisers/password/forgot")  # the link's page may be gone
    return client.post(
        path, data={"csrf_token": token, "name": name, "password": password, "repeat": password}
    )


def members(app, organiser_id):
    with app.app_context():
        events = db.session.scalars(
            sa.select(EventMember).where(EventMember.organiser_id == organiser_id)
        )
        statements = db.session.scalars(
            sa.select(StatementMember).where(StatementMember.organiser_id == organiser_id)
        )
        return (
            {(member.event_id, member.role) for member in events},
            {(member.statement_id, member.role) for member in statements},
        )


def test_an_admin_invites_and_the_invitee_chooses_a_password(
    app, client, admin, make_event, statement
):
    event = make_event()
    logged_in(client, admin)
    page = client.get(f"{NEW}?event={event.slug}")
    assert "checked" in page.get_data(as_text=True)  # ?event= ticks the event
    sent = invite_through_the_form(
        client,
        event_role="door",
        events=str(event.id),
        statement_role="moderator",
        statements=str(statement.id),
    )
    assert sent.status_code == 302
    pending = text_of(client.get("/organisers/invitations"))
    assert INVITEE in pending
    assert "Solidarity meeting (door (check-in))" in pending
    assert "Solidarity with Bolivia (moderator)" in pending

    [message] = delivered_to(app, INVITEE)
    assert "Solidarity meeting" in message.get_body(("plain",)).get_content()
    path = link_in(message, WELCOME)

    invitee = app.test_client()
    form = invitee.get(path)
    assert form.status_code == 200
    assert INVITEE in text_of(form)
    welcomed = accept(invitee, path)
    assert welcomed.status_code == 302
    assert welcomed.location == "/organisers/"
    assert invitee.get("/organisers/").status_code == 200  # logged in

    with app.app_context():
        account = service.find_organiser(INVITEE)
        assert account.name == "Juana" and not account.is_admin
        actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        details = " ".join(db.session.scalars(sa.select(AuditEntry.detail)))
    assert members(app, account.id) == ({(event.id, "door")}, {(statement.id, "moderator")})
    assert {"invitation.sent", "invitation.accepted"} <= set(actions)
    assert INVITEE not in details
    assert login(app.test_client(), INVITEE, "juana's own password").status_code == 302
    assert INVITEE not in text_of(client.get("/organisers/invitations"))  # no longer pending


def test_the_link_works_once(app, client, admin, make_event):
    event = make_event()
    logged_in(client, admin)
    invite_through_the_form(client, event_role="viewer", events=str(event.id))
    path = link_in(delivered_to(app, INVITEE)[0], WELCOME)
    assert accept(app.test_client(), path).status_code == 302
    again = app.test_client()
    assert again.get(path).status_code == 404
    assert accept(again, path, password="another password entirely").status_code in (400, 404)
    assert login(app.test_client(), INVITEE, "another password entirely").status_code == 401


def test_a_revoked_invitation_opens_nothing(app, client, admin, make_event):
    event = make_event()
    logged_in(client, admin)
    invite_through_the_form(client, event_role="viewer", events=str(event.id))
    path = link_in(delivered_to(app, INVITEE)[0], WELCOME)
    with app.app_context():
        invitation_id = db.session.scalar(sa.select(Invitation.id))
    token = csrf_token(client, "/organisers/invitations")
    revoked = client.post(
        f"/organisers/invitations/{invitation_id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 302
    refused = app.test_client().get(path)
    assert refused.status_code == 404
    assert "This link does not work" in text_of(refused)
    with app.app_context():
        assert "invitation.revoked" in set(db.session.scalars(sa.select(AuditEntry.action)))


def test_an_expired_invitation_opens_nothing(app, admin, make_event):
    event = make_event()
    sent_at = utc_now() - timedelta(days=8)
    with app.app_context():
        inviter = service.get_organiser(admin.id)
        invitation = invitations.invite(
            INVITEE,
            invited_by=inviter,
            is_admin=False,
            event_roles={event.id: EventRole.VIEWER},
            statement_roles={},
            now=sent_at,
        )
        assert invitations.usable_invitation(
            invitations.invitation_url(invitation).rsplit("/", 1)[1], sent_at + timedelta(days=6)
        )
    path = link_in(delivered_to(app, INVITEE)[0], WELCOME)
    refused = app.test_client().get(path)
    assert refused.status_code == 404
    assert accept(app.test_client(), path).status_code == 404
    with app.app_context():
        assert service.find_organiser(INVITEE) is None


def test_a_forged_link_is_404(client):
    assert client.get(f"{WELCOME}not-a-token").status_code == 404
    assert client.get(f"{WELCOME}nul%00byte").status_code == 404


def test_a_manager_invites_only_to_their_own_events(
    app, client, organiser, make_organiser, make_event
):
    own = make_event()
    other = make_event(slug="someone-elses", title="Someone else's meeting")
    with app.app_context(), unit_of_work():
        db.session.add(EventMember(event_id=own.id, organiser_id=organiser.id, role="manager"))
    logged_in(client, organiser)
    page = text_of(client.get(NEW))
    assert "Solidarity meeting" in page and "Someone else's meeting" not in page
    assert "Admin" not in page
    refused = invite_through_the_form(client, event_role="viewer", events=str(other.id))
    assert refused.status_code == 400
    as_admin = invite_through_the_form(client, event_role="viewer", events=str(own.id), admin="y")
    assert as_admin.status_code == 302
    with app.app_context():
        [invitation] = db.session.scalars(sa.select(Invitation))
        assert not invitation.is_admin  # the box is not theirs to tick
        assert [role.event_id for role in invitation.event_roles] == [own.id]
        inviter = service.get_organiser(organiser.id)
        assert not invitations.may_invite(inviter, event_ids={other.id})


def test_an_account_with_no_team_cannot_invite(app, client, organiser):
    logged_in(client, organiser)
    assert client.get(NEW).status_code == 403


def test_an_existing_account_takes_the_roles_after_logging_in(
    app, client, admin, organiser, make_event
):
    event = make_event()
    logged_in(client, admin)
    invite_through_the_form(
        client, email=organiser.email, event_role="manager", events=str(event.id)
    )
    path = link_in(delivered_to(app, organiser.email)[0], WELCOME)
    invitee = app.test_client()
    asked = invitee.get(path)
    assert asked.status_code == 302 and "/organisers/login" in asked.location
    logged_in(invitee, organiser)
    token = csrf_token(invitee, path)
    assert invitee.post(path, data={"csrf_token": token}).status_code == 302
    assert members(app, organiser.id) == ({(event.id, "manager")}, set())
    assert login(app.test_client(), organiser.email, PASSWORD).status_code == 302


def test_bad_accept_input_is_explained(app, client, admin, make_event):
    event = make_event()
    logged_in(client, admin)
    invite_through_the_form(client, event_role="viewer", events=str(event.id))
    path = link_in(delivered_to(app, INVITEE)[0], WELCOME)
    invitee = app.test_client()
    short = accept(invitee, path, password="short")
    assert short.status_code == 400
    assert "Use at least 12 characters." in text_of(short)
    nul = accept(invitee, path, name="Ju\x00ana")
    assert nul.status_code == 400


def test_in_spanish_the_page_and_the_mail_are_spanish(app, client, admin, make_event):
    event = make_event()
    logged_in(client, admin)
    client.get("/language/es", follow_redirects=False)
    invite_through_the_form(client, event_role="viewer", events=str(event.id))
    [message] = delivered_to(app, INVITEE)
    assert "Reunión de solidaridad" in message.get_body(("plain",)).get_content()
    assert "invitación" in str(message["Subject"]).lower() or "organiz" in str(message["Subject"])


def test_the_required_second_factor_comes_next(app, client, admin, make_event):
    event = make_event()
    logged_in(client, admin)
    invite_through_the_form(client, event_role="viewer", events=str(event.id))
    path = link_in(delivered_to(app, INVITEE)[0], WELCOME)
    app.config["REQUIRE_2FA"] = True
    welcomed = accept(app.test_client(), path)
    assert welcomed.location == "/organisers/second-factor/setup"


def test_the_command_line_invites_and_prints_no_link(app, runner, make_event):
    event = make_event()
    result = runner.invoke(
        args=["organisers", "invite", INVITEE, "--role", "door", "--event", event.slug]
    )
    assert result.exit_code == 0, result.output
    assert "queued" in result.output
    [message] = delivered_to(app, INVITEE)
    path = link_in(message, WELCOME)
    token = path.rsplit("/", 1)[1]
    assert token not in result.output and "welcome" not in result.output
    with app.app_context():
        secret = db.session.scalar(sa.select(Invitation.link_secret))
    assert secret not in result.output
    assert accept(app.test_client(), path).status_code == 302
    unknown = runner.invoke(
        args=["organisers", "invite", INVITEE, "--role", "door", "--event", "nope"]
    )
    assert unknown.exit_code != 0 and "nope" in unknown.output


def test_the_command_line_invites_to_a_statement_in_spanish(app, runner, statement):
    args = ["organisers", "invite", INVITEE, "--role", "moderator", "--statement", statement.slug]
    result = runner.invoke(args=[*args, "--language", "es"])
    assert result.exit_code == 0, result.output
    [message] = delivered_to(app, INVITEE)
    assert "Solidaridad con Bolivia (moderación)" in message.get_body(("plain",)).get_content()
    path = link_in(message, WELCOME)
    assert accept(app.test_client(), path).status_code == 302
    with app.app_context():
        account_id = service.find_organiser(INVITEE).id
    assert members(app, account_id) == (set(), {(statement.id, "moderator")})
    door = runner.invoke(
        args=["organisers", "invite", INVITEE, "--role", "door", "--statement", statement.slug]
    )
    assert door.exit_code != 0


def test_the_accounts_page_has_no_first_password_form(client, admin):
    logged_in(client, admin)
    page = client.get("/organisers/accounts").get_data(as_text=True)
    assert 'type="password"' not in page
    assert NEW in page


def test_a_manager_sees_and_revokes_only_their_own_invitations(
    app, client, admin, organiser, make_event
):
    event = make_event()
    with app.app_context(), unit_of_work():
        db.session.add(EventMember(event_id=event.id, organiser_id=organiser.id, role="manager"))
    with app.app_context():
        invitation = invitations.invite(
            "from-admin@example.org",
            invited_by=service.get_organiser(admin.id),
            is_admin=False,
            event_roles={event.id: EventRole.VIEWER},
            statement_roles={},
            now=utc_now(),
        )
        admins_invitation = invitation.id
    logged_in(client, organiser)
    invite_through_the_form(client, event_role="door", events=str(event.id))
    listed = text_of(client.get("/organisers/invitations"))
    assert INVITEE in listed and "from-admin@example.org" not in listed
    token = csrf_token(client, "/organisers/invitations")
    refused = client.post(
        f"/organisers/invitations/{admins_invitation}/revoke", data={"csrf_token": token}
    )
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(Invitation, admins_invitation).revoked_at is None

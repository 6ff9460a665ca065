"""The accounts' mail through a real SMTP server on loopback: an invitation followed to a new
account with a second factor, and a password reset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from service.mail import service as mail
from tests.mail.fixtures import SMTPSink, smtp_config
from tests.organisers.conftest import Account, logged_in, login
from tests.organisers.mailbox import link_in
from tests.organisers.test_invitations import INVITEE, WELCOME, accept, invite_through_the_form
from tests.organisers.test_password_reset import NEW_PASSWORD, RESET, ask_for_a_link, choose
from tests.organisers.test_second_factor import CODE_STEP, next_code, send_code, set_up
from tests.registration.fixtures import csrf_token


@pytest.fixture
def app_config(smtp: SMTPSink) -> dict[str, Any]:
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


def sent_to(app: Flask, smtp: SMTPSink, address: str):
    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    return smtp.to(address)


def test_an_invitation_over_smtp_becomes_an_account_with_a_second_factor(
    app, client, smtp, admin: Account, make_event
):
    event = make_event()
    logged_in(client, admin)
    assert (
        invite_through_the_form(client, event_role="door", events=str(event.id)).status_code == 302
    )
    [invitation] = sent_to(app, smtp, INVITEE)
    invitee = app.test_client()
    assert accept(invitee, link_in(invitation, WELCOME)).status_code == 302
    assert invitee.get("/organisers/").status_code == 200

    secret, _codes = set_up(invitee)
    invitee.post("/organisers/logout", data={"csrf_token": csrf_token(invitee, "/organisers/")})
    assert login(invitee, INVITEE, "juana's own password").location == CODE_STEP
    assert send_code(invitee, next_code(secret)).status_code == 302
    assert invitee.get(f"/organisers/events/{event.slug}/attendees").status_code == 200


def test_a_password_reset_over_smtp(app, client, smtp, organiser: Account):
    assert ask_for_a_link(client, organiser.email).status_code == 200
    [message] = sent_to(app, smtp, organiser.email)
    assert choose(client, link_in(message, RESET)).location == "/organisers/login"
    assert login(app.test_client(), organiser.email, NEW_PASSWORD).status_code == 302

"""Admins manage organisers' accounts in the web: disable, enable, and invite (tested in
``test_invitations``)."""

from __future__ import annotations

import pytest

from service.organisers import service
from tests.events.test_pages import text_of
from tests.organisers.conftest import PASSWORD, logged_in, login
from tests.registration.fixtures import csrf_token

ACCOUNTS = "/organisers/accounts"


def test_an_admin_adds_organisers_by_invitation_not_by_password(client, admin):
    logged_in(client, admin)
    page = client.get(ACCOUNTS)
    assert "admin@example.org" in text_of(page)
    assert 'type="password"' not in page.get_data(as_text=True)  # no first password to hand over
    assert 'href="/organisers/invitations/new"' in page.get_data(as_text=True)


def test_disabling_logs_out_everywhere_and_enabling_lets_back_in(app, client, admin, organiser):
    theirs = logged_in(app.test_client(), organiser)
    logged_in(client, admin)
    token = csrf_token(client, ACCOUNTS)
    path = f"/organisers/accounts/{organiser.id}/active"
    assert client.post(path, data={"csrf_token": token, "active": "0"}).status_code == 302
    assert theirs.get("/organisers/").status_code == 302  # sent to log in
    assert login(app.test_client(), organiser.email, PASSWORD).status_code == 401
    client.post(path, data={"csrf_token": token, "active": "1"})
    assert login(app.test_client(), organiser.email, PASSWORD).status_code == 302


def test_an_admin_cannot_lock_everyone_out(app, client, admin, make_organiser):
    logged_in(client, admin)
    token = csrf_token(client, ACCOUNTS)
    yourself = client.post(
        f"/organisers/accounts/{admin.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert "You cannot disable your own account." in text_of(client.get(yourself.location))
    other_admin = make_organiser("second@example.org", admin=True)
    client.post(
        f"/organisers/accounts/{other_admin.id}/active", data={"csrf_token": token, "active": "0"}
    )
    theirs = logged_in(app.test_client(), admin)  # the first admin still works
    assert theirs.get(ACCOUNTS).status_code == 200


def test_the_last_admin_stays(app, admin, organiser):
    with app.app_context():
        only_admin = service.get_organiser(admin.id)
        with pytest.raises(service.LastAdmin):
            service.set_active(only_admin, False)
        assert service.get_organiser(admin.id).active


def test_organisers_cannot_manage_accounts(app, client, organiser, admin):
    logged_in(client, organiser)
    token = csrf_token(client, "/organisers/password")
    response = client.post(
        f"/organisers/accounts/{admin.id}/active", data={"csrf_token": token, "active": "0"}
    )
    assert response.status_code == 403
    assert client.get(ACCOUNTS).status_code == 403

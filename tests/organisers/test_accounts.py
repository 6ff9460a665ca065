"""Admins manage organisers' accounts in the web: add, disable, enable."""

from __future__ import annotations

import pytest

from service.organisers import service
from tests.events.test_pages import text_of
from tests.organisers.conftest import PASSWORD, logged_in, login
from tests.registration.fixtures import csrf_token

ACCOUNTS = "/organisers/accounts"


def test_an_admin_adds_an_organiser_who_can_then_log_in(app, client, admin):
    logged_in(client, admin)
    token = csrf_token(client, ACCOUNTS)
    response = client.post(
        ACCOUNTS,
        data={
            "csrf_token": token,
            "email": "Juana@Example.org",
            "name": "Juana",
            "password": "a first password to change",
        },
    )
    assert response.status_code == 302
    assert "Account created for juana@example.org." in text_of(client.get(ACCOUNTS))
    newcomer = app.test_client()
    assert login(newcomer, "juana@example.org", "a first password to change").status_code == 302
    assert newcomer.get(ACCOUNTS).status_code == 403  # an organiser, not an admin


def test_bad_account_input_is_explained_and_kept(app, client, admin, organiser):
    logged_in(client, admin)
    token = csrf_token(client, ACCOUNTS)
    taken = client.post(
        ACCOUNTS, data={"csrf_token": token, "email": organiser.email, "password": PASSWORD}
    )
    assert taken.status_code == 400
    assert "An organiser with this address exists already." in text_of(taken)
    short = client.post(
        ACCOUNTS, data={"csrf_token": token, "email": "new@example.org", "password": "short"}
    )
    assert short.status_code == 400
    assert "Use at least 12 characters." in text_of(short)
    assert 'value="new@example.org"' in short.get_data(as_text=True)


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
    created = client.post(
        ACCOUNTS, data={"csrf_token": token, "email": "x@example.org", "password": PASSWORD}
    )
    assert created.status_code == 403

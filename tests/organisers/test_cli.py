"""``flask organisers create|list|disable``."""

from __future__ import annotations

from sqlalchemy import func, select

from service.extensions import db
from service.organisers.models import Organiser
from tests.organisers.conftest import PASSWORD, login


def accounts(app) -> dict[str, Organiser]:
    with app.app_context():
        found = {o.email: o for o in db.session.scalars(select(Organiser))}
        db.session.expunge_all()
        return found


def create(runner, email: str, password: str = PASSWORD, *options: str):
    return runner.invoke(
        args=["organisers", "create", email, "--password-stdin", *options], input=password + "\n"
    )


def test_create_reads_the_password_from_stdin(app, runner, client):
    result = create(runner, "Rosa@Example.org", PASSWORD, "--name", "Rosa")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created organiser rosa@example.org"
    rosa = accounts(app)["rosa@example.org"]
    assert rosa.name == "Rosa"
    assert not rosa.is_admin and rosa.active
    assert rosa.password_hash.startswith("$argon2id$")
    assert PASSWORD not in result.output
    assert login(client, "rosa@example.org", PASSWORD).status_code == 302


def test_create_an_admin(app, runner):
    result = create(runner, "admin@example.org", PASSWORD, "--admin")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created admin admin@example.org"
    assert accounts(app)["admin@example.org"].is_admin


def test_a_too_short_password_is_refused(app, runner):
    result = create(runner, "rosa@example.org", "short")
    assert result.exit_code == 1
    assert "a password needs at least 12 characters" in result.output
    assert accounts(app) == {}


def test_an_empty_password_is_refused(app, runner):
    result = runner.invoke(
        args=["organisers", "create", "rosa@example.org", "--password-stdin"], input=""
    )
    assert result.exit_code == 1
    assert "a password needs at least 12 characters" in result.output
    assert accounts(app) == {}


def test_an_address_taken_already_is_refused(app, runner):
    assert create(runner, "rosa@example.org").exit_code == 0
    result = create(runner, "ROSA@example.org", "another long password")
    assert result.exit_code == 1
    assert "an organiser with the address rosa@example.org exists already" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organiser)) == 1


def test_the_password_keeps_its_spaces(app, runner, client):
    """Only the line ending is taken off what was piped in, and the login form takes the
    password as typed, so the two agree."""
    password = "  spaces around it  "
    assert create(runner, "rosa@example.org", password).exit_code == 0
    assert login(client, "rosa@example.org", password.strip()).status_code == 401
    assert login(client, "rosa@example.org", password).status_code == 302


def test_list_shows_roles_and_disabled_accounts(runner):
    create(runner, "rosa@example.org")
    create(runner, "admin@example.org", PASSWORD, "--admin")
    create(runner, "gone@example.org")
    runner.invoke(args=["organisers", "disable", "gone@example.org"])
    result = runner.invoke(args=["organisers", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "admin@example.org (admin)",
        "gone@example.org (disabled)",
        "rosa@example.org",
    ]


def test_disable_ends_sessions_and_logins(app, runner, client):
    create(runner, "rosa@example.org")
    assert login(client, "rosa@example.org", PASSWORD).status_code == 302
    assert client.get("/organisers/").status_code == 200
    key_before = accounts(app)["rosa@example.org"].session_key

    result = runner.invoke(args=["organisers", "disable", "Rosa@Example.org"])
    assert result.exit_code == 0, result.output
    assert "disabled Rosa@Example.org" in result.output

    rosa = accounts(app)["rosa@example.org"]
    assert not rosa.active
    assert rosa.session_key != key_before
    assert client.get("/organisers/").status_code == 302
    assert login(app.test_client(), "rosa@example.org", PASSWORD).status_code == 401


def test_disable_an_unknown_address(runner):
    result = runner.invoke(args=["organisers", "disable", "nobody@example.org"])
    assert result.exit_code == 1
    assert "no organiser with the address nobody@example.org" in result.output

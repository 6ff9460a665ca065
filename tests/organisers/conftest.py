"""Organiser accounts and a real login through the form, for the organisers' area tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.access import service as access
from service.access.models import EventMember, EventRole, StatementMember, StatementRole
from service.events.models import Event
from service.extensions import db
from service.organisers import service
from service.statements.models import Statement
from tests.registration.fixtures import csrf_token

LOGIN_PATH = "/organisers/login"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str


@pytest.fixture
def app_config() -> dict[str, Any]:
    """No rate limit (a test turns it on to test it); mail never leaves the process."""
    return {"RATELIMIT_ENABLED": False, "MAIL_BACKEND": "memory"}


@pytest.fixture
def make_organiser(app: Flask) -> Callable[..., Account]:
    """Create an account with the service organisers are created with (``flask organisers
    create`` calls it too)."""

    def make(email: str, password: str = PASSWORD, **options: Any) -> Account:
        with app.app_context():
            created = service.create_organiser(email, password, **options)
            return Account(created.id, created.email, password)

    return make


@pytest.fixture
def organiser(app: Flask, make_organiser: Callable[..., Account]) -> Iterator[Account]:
    """A non-admin account that manages every event and statement of the test, made before
    or after it (tests/access gives accounts the other roles)."""
    account = make_organiser("rosa@example.org", name="Rosa")
    with manager_of_everything(app, account.id):
        yield account


@contextmanager
def manager_of_everything(app: Flask, organiser_id: int) -> Iterator[None]:
    def manage_events(connection: sa.Connection, event_ids: list[int]) -> None:
        for event_id in event_ids:
            connection.execute(
                sa.insert(EventMember).values(
                    event_id=event_id, organiser_id=organiser_id, role=EventRole.MANAGER
                )
            )

    def manage_statements(connection: sa.Connection, statement_ids: list[int]) -> None:
        for statement_id in statement_ids:
            connection.execute(
                sa.insert(StatementMember).values(
                    statement_id=statement_id,
                    organiser_id=organiser_id,
                    role=StatementRole.MANAGER,
                )
            )

    def event_made(_mapper: Any, connection: sa.Connection, event: Event) -> None:
        manage_events(connection, [event.id])

    def statement_made(_mapper: Any, connection: sa.Connection, statement: Statement) -> None:
        manage_statements(connection, [statement.id])

    with app.app_context(), db.engine.begin() as connection:
        manage_events(connection, list(connection.scalars(sa.select(Event.id))))
        manage_statements(connection, list(connection.scalars(sa.select(Statement.id))))
    sa.event.listen(Event, "after_insert", event_made)
    sa.event.listen(Statement, "after_insert", statement_made)
    try:
        yield
    finally:
        sa.event.remove(Event, "after_insert", event_made)
        sa.event.remove(Statement, "after_insert", statement_made)


def manager_of(app: Flask, account: Account, event_id: int) -> Account:
    """The account, made the event's manager."""
    with app.app_context():
        access.grant_event_role(account.id, event_id, EventRole.MANAGER)
    return account


@pytest.fixture
def admin(make_organiser: Callable[..., Account]) -> Account:
    return make_organiser("admin@example.org", name="Admin", admin=True)


def login(
    client: FlaskClient, email: str, password: str, next_path: str | None = None
) -> TestResponse:
    """Log in as a person does: load the form for its CSRF token, then submit it."""
    path = LOGIN_PATH if next_path is None else f"{LOGIN_PATH}?next={next_path}"
    token = csrf_token(client, LOGIN_PATH)
    return client.post(path, data={"csrf_token": token, "email": email, "password": password})


def logged_in(client: FlaskClient, account: Account) -> FlaskClient:
    response = login(client, account.email, account.password)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location == "/organisers/"
    return client


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused request changed nothing."""
    with app.app_context():
        return {
            table.name: sorted(
                (tuple(row) for row in db.session.execute(sa.select(table))), key=repr
            )
            for table in db.metadata.sorted_tables
        }

"""Statement fixtures, and signing as a person does, for every area that needs signatories."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from service.db import utc_now
from service.extensions import db
from service.mail import service as mail
from service.statements import service
from service.statements.models import Signature, Statement, StatementStatus
from tests.registration.fixtures import csrf_token

SLUG = "solidarity-with-bolivia"
PATH = f"/statements/{SLUG}"
FIRST_SIGNED = datetime(2027, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def make_statement(app: Flask) -> Callable[..., Statement]:
    def make(**fields: Any) -> Statement:
        values = {
            "slug": SLUG,
            "title": "Solidarity with Bolivia",
            "title_es": "Solidaridad con Bolivia",
            "body": "We stand with the people of **Bolivia**.",
            "body_es": "Estamos con el pueblo de **Bolivia**.",
            "status": StatementStatus.PUBLISHED,
            **fields,
        }
        with app.app_context():
            statement = service.save_statement(None, values, utc_now())
            db.session.refresh(statement)
            db.session.expunge(statement)
            return statement

    return make


@pytest.fixture
def statement(make_statement: Callable[..., Statement]) -> Statement:
    return make_statement()


@pytest.fixture
def add_signatories(app: Flask) -> Callable[..., list[int]]:
    """Confirmed, approved signatures straight into the database (as organisers add them)."""

    def add(statement_id: int, names: list[str], **fields: Any) -> list[int]:
        ids = []
        with app.app_context():
            for number, name in enumerate(names):
                signer = service.Signer(
                    name=name,
                    email=f"signer{number}.{statement_id}.{len(name)}@example.org",
                    show_name=fields.get("show_name", True),
                    affiliation=fields.get("affiliation", ""),
                )
                moment = FIRST_SIGNED + timedelta(minutes=number)  # in the order given
                ids.append(service.add_confirmed_signature(statement_id, signer, "en", moment).id)
        return ids

    return add


def sign(client: FlaskClient, path: str = PATH, **fields: Any) -> TestResponse:
    """Fill in and send the form on the statement's page, as a person would."""
    data = {
        "csrf_token": fields.pop("csrf_token", None) or csrf_token(client, path),
        "name": "Ana Flores",
        "email": "ana@example.org",
        "show_name": "y",
        **fields,
    }
    return client.post(path, data={key: value for key, value in data.items() if value is not None})


def deliver(app: Flask) -> None:
    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))


def signatures(app: Flask) -> list[Signature]:
    with app.app_context():
        rows = list(db.session.scalars(select(Signature).order_by(Signature.id)))
        db.session.expunge_all()
        return rows


def link(message: EmailMessage, purpose: str) -> str:
    """The path of the confirm or withdraw link in a message's text."""
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https://events\.example\.org(/signature/{purpose}/\S+)", text).group(1)

"""Registration fixtures, used by every area that needs attendees."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.extensions import db
from service.registration.models import Registration, RegistrationStatus


@pytest.fixture
def make_registration(app: Flask) -> Callable[..., Registration]:
    """Add a registration for ``event_id`` (confirmed, English unless told otherwise)."""

    def make(event_id: int, email: str, *, created_at: datetime, **fields: Any) -> Registration:
        with app.app_context():
            registration = Registration(
                event_id=event_id,
                email=email,
                name=fields.pop("name", email.split("@")[0].title()),
                language=fields.pop("language", "en"),
                status=fields.pop("status", RegistrationStatus.CONFIRMED),
                created_at=created_at,
                **fields,
            )
            db.session.add(registration)
            db.session.commit()
            db.session.refresh(registration)
            db.session.expunge(registration)
            return registration

    return make


CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The form's CSRF token, as a browser would get it: by loading the page."""
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert match, f"no form on {path}"
    return match.group(1)


def submit_registration(
    client: FlaskClient, slug: str = "solidarity-meeting", **fields: Any
) -> TestResponse:
    """Fill in and send the registration form on the event page, like a person would."""
    data = {
        "csrf_token": fields.pop("csrf_token", None) or csrf_token(client, f"/events/{slug}"),
        "name": "Ana Flores",
        "email": "ana@example.org",
        "organisation": "",
        "website": "",
        **fields,
    }
    return client.post(f"/events/{slug}/register", data=data)

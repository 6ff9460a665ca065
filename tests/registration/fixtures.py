"""Registration fixtures, used by every area that needs attendees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

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

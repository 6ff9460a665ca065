"""Event fixtures, used by every area: events built through the import service organisers use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from service.events import service
from service.events.models import Event
from service.extensions import db

LONDON = ZoneInfo("Europe/London")
SECRET_JOIN_URL = "https://meet.example.org/secret-room-4821"


def event_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": "solidarity-meeting",
        "title": "Solidarity meeting",
        "title_es": "Reunión de solidaridad",
        "summary": "Speakers from La Paz on the struggle",
        "summary_es": "Ponentes desde La Paz sobre la lucha",
        "description": "We meet to **organise**.",
        "description_es": "Nos reunimos para **organizarnos**.",
        "starts_at": datetime(2027, 4, 19, 18, 30, tzinfo=LONDON).isoformat(),
        "ends_at": datetime(2027, 4, 19, 20, 0, tzinfo=LONDON).isoformat(),
        "timezone": "Europe/London",
        "extra_timezones": ["America/La_Paz"],
        "format": "online",
        "join_url": SECRET_JOIN_URL,
        "capacity": 100,
        "status": "published",
        "organised_by": "Friends of Bolivia",
        "supporters": ["Labour Friends of Progressive Latin America"],
        "people": [
            {
                "name": "Ollie Vargas",
                "role": "speaker",
                "affiliation": "Journalist",
                "email": "ollie@example.org",
            },
            {
                "name": "Christine Blower",
                "role": "chair",
                "affiliation": "LFPLA",
                "email": "christine@example.org",
            },
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_event(app: Flask) -> Callable[..., Event]:
    """Create (or update) an event from ``event_data(**overrides)``; returns it detached,
    its columns loaded."""

    def make(**overrides: Any) -> Event:
        with app.app_context():
            [(event, _created)] = service.import_events(event_data(**overrides))
            db.session.refresh(event)
            db.session.expunge(event)
            return event

    return make

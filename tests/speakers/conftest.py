"""Speakers in the loop: a real SMTP sink, organiser accounts, and the speaker's link."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest

from service.events.models import EventPerson
from service.extensions import db
from tests.mail.fixtures import smtp_config
from tests.organisers.conftest import make_organiser, organiser

__all__ = ["make_organiser", "organiser"]

SPEAKER_LINK = re.compile(r"https://events\.example\.org(/speak/[\w.\-]+)")


@pytest.fixture
def app_config(smtp) -> dict[str, Any]:
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


def link_in(message: EmailMessage) -> str:
    """The path of the speaker's personal link in an invitation's text."""
    match = SPEAKER_LINK.search(message.get_body(("plain",)).get_content())
    assert match, "no speaker link in the mail"
    return match.group(1)


@pytest.fixture
def person_named(app) -> Callable[[str], EventPerson]:
    def find(name: str) -> EventPerson:
        with app.app_context():
            person = db.session.scalar(db.select(EventPerson).filter_by(name=name))
            assert person is not None
            db.session.expunge(person)
            return person

    return find

"""The demo's follow-up: written once, for the main demo event, linking the demo statement."""

from __future__ import annotations

from sqlalchemy import func, select

from service.demo import DEMO_EVENT_SLUG, DEMO_RECORDING_URL, DEMO_STATEMENT_SLUG
from service.events import service as events
from service.extensions import db
from service.followups import service
from service.followups.models import Audience, FollowUp


def test_the_demo_writes_its_follow_up_once(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert f"wrote the follow-up of {DEMO_EVENT_SLUG}" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "wrote the follow-up" not in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(FollowUp.id))) == 1
        event = events.get_event(DEMO_EVENT_SLUG)
        follow_up = service.get_follow_up(event.id)
        assert follow_up.statement.slug == DEMO_STATEMENT_SLUG
        assert follow_up.recording_url == DEMO_RECORDING_URL
        assert follow_up.send_at == service.default_send_at(event)
        for audience in Audience:
            version = follow_up.version(audience)
            assert version.subject_es and version.body_es
            assert version.with_recording and version.with_sign

"""A registrant's reminder arrives; they follow its unsubscribe link in the browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from service.db import utc_now
from service.demo import DEMO_EVENT_SLUG
from service.events import service as events
from service.extensions import db
from service.mail import service as mail
from service.mail.models import MessageKind
from service.registration.models import Registration
from service.reminders.service import sweep_reminders

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_reminder_unsubscribe_link_works_in_the_browser(page: Page, live_app, live_server, mailbox):
    address = f"rosa-{utc_now().timestamp():.0f}@example.org"
    with live_app.app_context():
        event = events.get_event(DEMO_EVENT_SLUG)
        db.session.add(
            Registration(
                event_id=event.id,
                name="Rosa",
                email=address,
                language="es",
                created_at=datetime.now(UTC) - timedelta(days=1),
            )
        )
        db.session.commit()
        hour_before = event.starts_at - timedelta(hours=1)
        sweep_reminders(hour_before)
        mail.dispatch_due(hour_before)
    [reminder] = mailbox.to(address)
    assert reminder["Subject"] == "Empieza pronto: Bolivia – Poder popular, esperanza y solidaridad"
    link = re.fullmatch(r"<(.+)>", reminder["List-Unsubscribe"]).group(1)
    assert link.startswith(live_server + "/unsubscribe/")

    page.goto(link)
    expect(page.get_by_text("to the address this link was sent to?")).to_be_visible()
    assert address not in page.content()  # the link names nobody, and neither does its page
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Done: the address this link was sent to will no longer receive"
    )
    with live_app.app_context():
        assert mail.is_unsubscribed(address, MessageKind.REMINDER)

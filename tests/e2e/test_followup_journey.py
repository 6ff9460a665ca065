"""An organiser writes the follow-up of a meeting that ended, previews it and tests it; the
scheduler's job then sends the attended version to who came and the other to who did not,
through the SMTP sink, and the call to sign opens the statement's form with the name in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from service.access import service as access
from service.access.models import EventRole
from service.db import utc_now
from service.demo import DEMO_STATEMENT_SLUG
from service.events import service as events
from service.followups import service as followups
from service.mail import service as mail
from service.organisers.service import create_organiser
from service.registration import roster
from service.registration import service as registration
from service.statements import service as statements
from tests.e2e.axe import assert_accessible, open_axe_context

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "correct horse battery staple"
LONDON = ZoneInfo("Europe/London")
SIGN_LINK = re.compile(r"(https?://\S+/statements/[\w-]+\?via=[\w.-]+)#sign")


def meeting_times(days_ago: int) -> dict[str, str]:
    day = (datetime.now(LONDON) - timedelta(days=days_ago)).date()
    starts = datetime(day.year, day.month, day.day, 18, 30, tzinfo=LONDON)
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(minutes=90)).isoformat(),
    }


def test_the_right_version_reaches_each_person_after_the_meeting(
    browser, live_app, live_server, mailbox
):
    stamp = f"{datetime.now(UTC).timestamp():.0f}"
    slug, email = f"follow-up-{stamp}", f"follow-up-{stamp}@example.org"
    came, missed = f"came-{stamp}@example.org", f"missed-{stamp}@example.org"
    event_data = {
        "slug": slug,
        "title": "Bolivia: what solidarity can do now",
        "timezone": "Europe/London",
        "format": "in_person",
        "venue": "Marx Memorial Library",
        "status": "published",
        **meeting_times(days_ago=-7),
    }
    with live_app.app_context():
        organiser_id = create_organiser(email, PASSWORD).id
        [(event, _created)] = events.import_events(event_data)
        access.grant_event_role(organiser_id, event.id, EventRole.MANAGER)
        now = utc_now()
        came_id = registration.register(slug, registration.Attendee("Ana López", came), "en", now)
        registration.register(slug, registration.Attendee("Beto Mamani", missed), "es", now)
        # The meeting took place two days ago (its times moved there through the service),
        # and Ana was checked in at the door.
        [(event, _created)] = events.import_events({**event_data, **meeting_times(days_ago=2)})
        roster.set_checked_in(came_id, event.id, True, now)
        statement_title = statements.get_statement(DEMO_STATEMENT_SLUG).title

    context = open_axe_context(browser)
    page: Page = context.new_page()
    page.goto(live_server + "/organisers/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Follow-up", exact=True).click()
    expect(page.get_by_role("heading", name="Follow-up after the meeting")).to_be_visible()
    assert_accessible(page)
    # The default: 09:00 the morning after, in the event's zone.
    with live_app.app_context():
        morning = followups.default_send_at(events.get_event(slug)).astimezone(LONDON)
    expect(page.get_by_label("Send on (in the event's time zone)")).to_have_value(
        morning.strftime("%Y-%m-%dT09:00")
    )

    page.get_by_label("Recording link (optional)").fill("https://video.example.org/bolivia-now")
    page.get_by_label("Call to sign a statement (optional)").select_option(label=statement_title)
    attended = page.get_by_role("group", name="For those who attended")
    attended.get_by_label("Subject", exact=True).fill("Thank you for coming")
    attended.get_by_label("Message (Markdown)", exact=True).fill("It was **great** to see you.")
    attended.get_by_label("The slides link").check()  # no slides given: refused
    attended.get_by_label("The call to sign the statement").check()
    others = page.get_by_role("group", name="For those who did not attend")
    others.get_by_label("Subject", exact=True).fill("Sorry we missed you")
    others.get_by_label("Subject in Spanish").fill("Te echamos de menos")
    others.get_by_label("Message (Markdown)", exact=True).fill("The recording is below.")
    others.get_by_label("Message in Spanish (Markdown)").fill("Abajo está la grabación.")
    others.get_by_label("The recording link").check()
    others.get_by_label("The call to sign the statement").check()
    page.get_by_role("button", name="Save the follow-up").click()
    expect(page.get_by_text("Give the slides link above, or untick this.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("group", name="For those who attended").get_by_label(
        "The slides link"
    ).uncheck()
    page.get_by_role("button", name="Save the follow-up").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    expect(page.get_by_text("Will be sent on")).to_contain_text("(Europe/London)")
    expect(page.locator(".prose strong")).to_have_text("great")

    page.get_by_role("link", name="For those who did not attend, in Spanish").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Te echamos de menos")
    expect(preview.get_by_role("link", name="Watch the recording")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send me a test of this version").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"A test copy is on its way to {email}"
    )

    # The scheduler's job, then the dispatcher, as they run every minute.
    with live_app.app_context():
        assert followups.send_due(utc_now()) == 2
        assert followups.send_due(utc_now()) == 0  # once each
        mail.dispatch_due(utc_now())
    [to_came] = [m for m in mailbox.to(came) if m["Subject"] == "Thank you for coming"]
    [to_missed] = [m for m in mailbox.to(missed) if m["Subject"] == "Te echamos de menos"]
    assert not [m for m in mailbox.to(came) if "missed" in str(m["Subject"])]
    assert [m["Subject"] for m in mailbox.to(email)] == ["Te echamos de menos"]  # the test
    missed_text = to_missed.get_body(("plain",)).get_content()
    assert "https://video.example.org/bolivia-now" in missed_text
    assert "video.example.org" not in to_came.get_body(("plain",)).get_content()

    page.goto(live_server + f"/organisers/events/{slug}/follow-up")
    expect(page.get_by_text("Sent to 2 people on")).to_be_visible()

    sign_link = SIGN_LINK.search(missed_text).group(1)
    signer = browser.new_context(locale="es-ES").new_page()
    signer.goto(sign_link)
    expect(signer.get_by_role("textbox", name="Tu nombre")).to_have_value("Beto Mamani")
    signer.context.close()
    context.close()

"""Languages, interpretation and access needs as a registrant meets them: the form asks, the
answers are stored, the registrant changes them on their manage page, and only someone who
needs interpretation is told how to reach the interpreted channel."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail import service as mail
from service.registration.models import Registration
from service.reminders.service import sweep_reminders
from tests.events.test_pages import text_of
from tests.registration.fixtures import csrf_token, submit_registration

START = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)  # 18:30 in London (BST)
SLUG = "solidarity-meeting"
ZOOM_SPANISH = "In Zoom, choose Interpretation, then Spanish"
HEADSETS_ENGLISH = "Headsets at the desk by the door"
LANGUAGE_QUESTION = "Which language will you follow the meeting in?"


@pytest.fixture
def bilingual(make_event):
    return make_event(
        format="hybrid",
        venue="Bolivar Hall",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
        languages=["en", "es"],
        interpretation_en=HEADSETS_ENGLISH,
        interpretation_es=ZOOM_SPANISH,
        speaker_reminder_offsets=[],
    )


def stored(app) -> dict[str, Registration]:
    with app.app_context():
        rows = {r.email: r for r in db.session.scalars(select(Registration))}
        db.session.expunge_all()
        return rows


def deliver(app, now: datetime | None = None) -> None:
    with app.app_context():
        mail.dispatch_due(now or datetime.now(UTC))


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def manage_path(message) -> str:
    return re.search(r"https://events\.example\.org(/r/\S+)", plain(message)).group(1)


def register(client, **fields):
    """Send the registration form; at the bilingual hybrid meeting, for a place in the room
    unless ``mode`` says otherwise."""
    return submit_registration(client, **{"mode": "in_person", **fields})


def test_the_form_asks_the_language_only_when_the_event_has_two(client, make_event):
    for languages in ([], ["es"]):
        make_event(languages=languages)
        page = client.get(f"/events/{SLUG}").get_data(as_text=True)
        assert LANGUAGE_QUESTION not in page
        assert 'name="follows_language"' not in page
        assert 'name="needs_interpretation"' not in page
        assert "Access needs (optional)" in page  # asked on every event
    make_event(languages=["en", "es"])
    page = client.get(f"/events/{SLUG}", headers={"Accept-Language": "es"})
    html = page.get_data(as_text=True)
    assert 'name="follows_language"' in html
    # In Spanish the page's own language comes first chosen.
    assert re.search(r'<input checked[^>]*value="es"|<input[^>]*value="es"[^>]*checked', html)
    assert "¿En qué idioma seguirás la reunión?" in text_of(page)


def test_answers_are_stored_and_counted_on_the_registration(app, client, smtp, bilingual):
    response = register(
        client,
        email="eva@example.org",
        follows_language="es",
        needs_interpretation="y",
        access_needs=["captions", "step_free"],
        access_needs_other="A seat near the front",
    )
    assert response.status_code == 302
    register(client, email="ana@example.org", follows_language="en")
    eva, ana = stored(app)["eva@example.org"], stored(app)["ana@example.org"]
    assert (eva.follows_language, eva.needs_interpretation) == ("es", True)
    assert eva.access_needs == ["captions", "step_free"]
    assert eva.access_needs_other == "A seat near the front"
    assert (ana.follows_language, ana.needs_interpretation, ana.access_needs) == ("en", False, [])


def test_an_event_without_languages_stores_none_even_if_sent(app, client, smtp, make_event):
    make_event(languages=[])
    register(client, follows_language="es", needs_interpretation="y")
    [registration] = stored(app).values()
    assert registration.follows_language is None and not registration.needs_interpretation


def test_a_language_the_event_does_not_offer_is_refused(app, client, smtp, bilingual):
    response = register(client, follows_language="fr")
    assert response.status_code == 400
    assert stored(app) == {}
    response = register(client, access_needs=["teleport"])
    assert response.status_code == 400
    assert stored(app) == {}


def test_a_nul_byte_in_other_needs_gets_a_clear_message_and_keeps_the_rest(
    app, client, smtp, bilingual
):
    response = register(
        client, name="Eva Copa", access_needs=["bsl"], access_needs_other="ramp\x00please"
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "Please remove the invisible control characters from this field." in page
    html = response.get_data(as_text=True)
    assert 'value="Eva Copa"' in html
    assert re.search(r'<input checked[^>]*value="bsl"|value="bsl"[^>]*checked', html)
    assert stored(app) == {}


def test_other_needs_longer_than_allowed_are_refused(app, client, smtp, bilingual):
    response = register(client, access_needs_other="x" * 301)
    assert response.status_code == 400
    assert "Field cannot be longer than 300 characters." in text_of(response)
    assert stored(app) == {}


def test_the_registrant_sees_and_changes_their_answers_on_their_manage_page(
    app, client, smtp, bilingual
):
    register(client, email="eva@example.org", follows_language="es", access_needs=["dial_in"])
    deliver(app)
    path = manage_path(smtp.to("eva@example.org")[0])
    html = client.get(path).get_data(as_text=True)
    assert "What you need to take part" in html
    assert re.search(r'<input checked[^>]*value="dial_in"|value="dial_in"[^>]*checked', html)
    response = client.post(
        f"{path}/needs",
        data={
            "csrf_token": csrf_token(client, path),
            "follows_language": "es",
            "needs_interpretation": "y",
            "access_needs": ["lse"],
            "access_needs_other": "",
        },
    )
    assert response.status_code == 302
    assert "Saved. The organisers see your answers as they are now." in text_of(
        client.get(response.headers["Location"])
    )
    eva = stored(app)["eva@example.org"]
    assert (eva.needs_interpretation, eva.access_needs, eva.access_needs_other) == (
        True,
        ["lse"],
        "",
    )


def test_a_refused_change_shows_why_and_changes_nothing(app, client, smtp, bilingual):
    register(client, email="eva@example.org", follows_language="en", access_needs=["captions"])
    deliver(app)
    path = manage_path(smtp.to("eva@example.org")[0])
    response = client.post(
        f"{path}/needs",
        data={
            "csrf_token": csrf_token(client, path),
            "follows_language": "en",
            "access_needs": ["bsl"],
            "access_needs_other": "\x00",
        },
    )
    assert response.status_code == 400
    assert "Please remove the invisible control characters from this field." in text_of(response)
    assert stored(app)["eva@example.org"].access_needs == ["captions"]


def test_a_forged_or_cancelled_link_changes_nothing(app, client, smtp, bilingual):
    register(client, email="eva@example.org", follows_language="en", access_needs=["captions"])
    deliver(app)
    path = manage_path(smtp.to("eva@example.org")[0])
    token = csrf_token(client, path)
    assert client.post(path + "x/needs", data={"csrf_token": token}).status_code == 404
    client.post(f"{path}/cancel", data={"csrf_token": token})
    # Cancelling forgets the access needs at once: no room or captions to book for them.
    assert stored(app)["eva@example.org"].access_needs == []
    assert "What you need to take part" not in text_of(client.get(path))
    response = client.post(
        f"{path}/needs",
        data={"csrf_token": token, "follows_language": "en", "access_needs": ["bsl"]},
    )
    assert response.status_code == 404
    assert stored(app)["eva@example.org"].access_needs == []


def test_only_someone_who_needs_interpretation_is_told_the_channel(app, client, smtp, bilingual):
    register(client, email="eva@example.org", follows_language="es", needs_interpretation="y")
    register(client, email="ana@example.org", follows_language="en")
    register(client, email="luis@example.org", follows_language="es")
    deliver(app)
    [eva_confirmation] = smtp.to("eva@example.org")
    assert f"Interpretation into Spanish: {ZOOM_SPANISH}" in plain(eva_confirmation)
    assert ZOOM_SPANISH in eva_confirmation.get_body(("html",)).get_content()
    for other in ("ana@example.org", "luis@example.org"):
        [confirmation] = smtp.to(other)
        assert ZOOM_SPANISH not in confirmation.as_string()
        assert HEADSETS_ENGLISH not in confirmation.as_string()

    reminder_time = START - timedelta(hours=1)
    with app.app_context():
        assert sweep_reminders(reminder_time) == 3
        mail.dispatch_due(reminder_time)
    [_, eva_reminder] = smtp.to("eva@example.org")
    assert eva_reminder["Subject"] == "Starting soon: Solidarity meeting"
    assert f"Interpretation into Spanish: {ZOOM_SPANISH}" in plain(eva_reminder)
    assert ZOOM_SPANISH in eva_reminder.get_body(("html",)).get_content()
    for other in ("ana@example.org", "luis@example.org"):
        [_, reminder] = smtp.to(other)
        assert reminder["Subject"] == "Starting soon: Solidarity meeting"
        assert "Interpretation into" not in plain(reminder)
        assert ZOOM_SPANISH not in reminder.as_string()


def test_a_spanish_reminder_names_the_language_in_spanish(app, smtp, bilingual, make_registration):
    make_registration(
        bilingual.id,
        "eva@example.org",
        language="es",
        follows_language="es",
        needs_interpretation=True,
        created_at=START - timedelta(days=3),
    )
    with app.app_context():
        sweep_reminders(START - timedelta(hours=1))
        mail.dispatch_due(START - timedelta(hours=1))
    [reminder] = smtp.to("eva@example.org")
    assert f"Interpretación al español: {ZOOM_SPANISH}" in plain(reminder)


def test_the_channel_told_is_the_one_when_the_reminder_goes(
    app, smtp, bilingual, make_registration, make_event
):
    make_registration(
        bilingual.id,
        "eva@example.org",
        follows_language="es",
        needs_interpretation=True,
        created_at=START - timedelta(days=3),
    )
    with app.app_context():
        sweep_reminders(START - timedelta(hours=1))
    make_event(
        format="hybrid",
        venue="Bolivar Hall",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
        languages=["en", "es"],
        interpretation_es="Channel 2 on the headsets",
        speaker_reminder_offsets=[],
    )
    deliver(app, START - timedelta(hours=1))
    [reminder] = smtp.to("eva@example.org")
    assert "Interpretation into Spanish: Channel 2 on the headsets" in plain(reminder)

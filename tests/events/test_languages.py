"""An event's languages and how to reach each interpreted channel: in the organisers' form, in
the event JSON (dump and import round-trip) and in a copy."""

from __future__ import annotations

import json
import re

from service.events import service
from service.events.series import copy_event
from service.extensions import db
from tests.events.fixtures import event_data
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in, make_organiser, manager_of_everything
from tests.registration.fixtures import csrf_token

__all__ = ["make_organiser"]  # the fixture, for the form's test

ZOOM = "In Zoom, choose Interpretation, then Spanish"
HEADSETS = "Headsets at the desk"


def test_the_json_round_trips(app, runner, make_event, tmp_path):
    make_event(languages=["en", "es"], interpretation_en=HEADSETS, interpretation_es=ZOOM)
    dumped = json.loads(runner.invoke(args=["events", "dump", "solidarity-meeting"]).output)
    assert dumped["languages"] == ["en", "es"]
    assert (dumped["interpretation_en"], dumped["interpretation_es"]) == (HEADSETS, ZOOM)
    dumped["slug"] = "the-copy"
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(dumped))
    assert runner.invoke(args=["events", "import", str(path)]).exit_code == 0
    with app.app_context():
        copy = service.get_event("the-copy")
        assert (copy.languages, copy.interpretation_en, copy.interpretation_es) == (
            ["en", "es"],
            HEADSETS,
            ZOOM,
        )


def test_an_event_without_them_has_none(app, make_event):
    event = make_event()
    assert (event.languages, event.interpretation_en, event.interpretation_es) == ([], "", "")
    assert not event.asks_language


def test_import_refuses_unknown_or_repeated_languages(app, runner, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            [
                event_data(slug="one", languages=["en", "qu"]),
                event_data(slug="two", languages=["es", "es"]),
                event_data(slug="three", interpretation_es="x" * 301),
            ]
        )
    )
    result = runner.invoke(args=["events", "import", str(path)])
    assert result.exit_code == 1
    assert "languages.1: Input should be 'en' or 'es'" in result.output
    assert "each language may appear only once" in result.output
    assert "interpretation_es: String should have at most 300 characters" in result.output
    with app.app_context():
        assert service.count_events() == 0


def test_a_copy_keeps_them(app, make_event):
    event = make_event(languages=["en", "es"], interpretation_es=ZOOM)
    with app.app_context():
        source = service.get_event(event.slug)
        [copy] = copy_event(
            source, source.starts_at.replace(year=2028), now=source.created_at
        ).events
        db.session.refresh(copy)
        assert (copy.languages, copy.interpretation_es) == (["en", "es"], ZOOM)


def test_the_organisers_form_sets_them(app, client, make_event, make_organiser):
    make_event()
    account = make_organiser("organiser@example.org")
    edit = "/organisers/events/solidarity-meeting/edit"
    with manager_of_everything(app, account.id):
        logged_in(client, account)
        page = client.get(edit)
        assert "Languages and interpretation" in text_of(page)
        data = {
            "csrf_token": csrf_token(client, edit),
            "title": "Solidarity meeting",
            "slug": "solidarity-meeting",
            "timezone": "Europe/London",
            "starts_at": "2027-04-19T18:30",
            "ends_at": "2027-04-19T20:00",
            "format": "online",
            "attendee_reminder_offsets": "1d, 1h",
            "speaker_reminder_offsets": "2d, 2h",
            "speaker_arrival_minutes": "30",
            "languages": ["en", "es"],
            "interpretation_es": ZOOM,
            "people-0-role": "speaker",
            "people-1-role": "speaker",
            "tell": "no",
        }
        response = client.post(edit, data=data)
        assert response.status_code == 302, text_of(response)
        with app.app_context():
            event = service.get_event("solidarity-meeting")
            assert (event.languages, event.interpretation_es) == (["en", "es"], ZOOM)
        html = client.get(edit).get_data(as_text=True)
        assert f'value="{ZOOM}"' in html
        assert re.search(r'<input [^>]*checked id="languages-1"[^>]*value="es"', html)

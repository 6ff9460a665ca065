"""A speaker adds a photo on their own page: re-encoded without its metadata, shown beside
their name while they are confirmed, and refused clearly without alt text."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from service.db import utc_now
from service.events import speakers
from service.extensions import db
from tests.mail.fixtures import smtp_config
from tests.media.conftest import photo_with_gps
from tests.speakers.test_invitations import EVENT_PAGE, answer, invited

__all__ = ["invited"]


@pytest.fixture
def app_config(smtp, tmp_path: Path) -> dict[str, Any]:
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False, "MEDIA_FOLDER": str(tmp_path)}


def with_photo(client, link, alt="Evo Quispe speaking at a rally", **fields):
    return answer(
        client,
        link,
        image=(BytesIO(photo_with_gps()), "me.jpg"),
        image_alt=alt,
        image_alt_es="",
        **fields,
    )


def photo_of(app, link):
    with app.app_context():
        person = speakers.person_from_link(link.removeprefix("/speak/"), utc_now())
        db.session.expunge_all()
        return person.photo


def test_a_confirmed_speakers_photo_shows_beside_their_name_without_its_metadata(
    app, invited, tmp_path
):
    speaker = app.test_client()
    response = with_photo(speaker, invited)
    assert response.status_code == 302
    photo = photo_of(app, invited)
    assert photo is not None and photo.alt == "Evo Quispe speaking at a rally"
    event_page = app.test_client().get(EVENT_PAGE).get_data(as_text=True)
    assert 'class="speaker-photo"' in event_page
    assert 'alt="Evo Quispe speaking at a rally"' in event_page
    with PILImage.open(tmp_path / photo.file_name(photo.widths[0])) as stored:
        assert not stored.getexif() and "xmp" not in stored.info


def test_a_photo_without_alt_text_is_refused_and_the_rest_is_kept(app, invited):
    speaker = app.test_client()
    response = with_photo(speaker, invited, alt="", name="Evo Quispe Mamani")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="Evo Quispe Mamani"' in page
    assert "field--error" in page
    assert photo_of(app, invited) is None


def test_a_speaker_who_declines_takes_their_photo_off_the_page(app, invited):
    speaker = app.test_client()
    assert with_photo(speaker, invited).status_code == 302
    declined = answer(speaker, invited, answer="declined", image_alt="Evo Quispe speaking")
    assert declined.status_code == 302
    assert "speaker-photo" not in app.test_client().get(EVENT_PAGE).get_data(as_text=True)


def test_a_speaker_can_remove_their_photo(app, invited):
    speaker = app.test_client()
    assert with_photo(speaker, invited).status_code == 302
    assert answer(speaker, invited, image_remove="y").status_code == 302
    assert photo_of(app, invited) is None
    assert "speaker-photo" not in app.test_client().get(EVENT_PAGE).get_data(as_text=True)

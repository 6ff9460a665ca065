"""A renamed event keeps its old addresses: each answers with a 301 to the same page at the new
address, no other event may take them, and a draft's old address reveals nothing."""

from __future__ import annotations

import json

import pytest

from service.events import service as events
from service.events.models import EventSlug
from service.events.schema import EventDataError
from service.extensions import db
from tests.events.fixtures import event_data
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in as log_in
from tests.organisers.conftest import manager_of_everything
from tests.organisers.test_event_editing import form

OLD, NEW = "bolivia-what-next", "bolivia-after-the-vote"


@pytest.fixture
def organiser_client(app, client, make_organiser):
    account = make_organiser("organiser@example.org")
    with manager_of_everything(app, account.id):
        yield log_in(client, account)


def rename(client, old: str, new: str, **fields):
    path = f"/organisers/events/{old}/edit"
    return client.post(path, data=form(client, path, slug=new, **fields))


@pytest.fixture
def renamed(make_event, organiser_client):
    make_event(slug=OLD)
    response = rename(organiser_client, OLD, NEW)
    assert response.status_code == 302
    assert response.location == f"/organisers/events/{NEW}/edit"
    return organiser_client


@pytest.mark.parametrize("suffix", ["", ".ics", "/register", "/registered?token=abc&x=1"])
def test_every_old_address_redirects_permanently_to_the_new_one(renamed, suffix):
    response = renamed.get(f"/events/{OLD}{suffix}")
    assert response.status_code == 301
    assert response.location == f"/events/{NEW}{suffix}"


def test_the_new_address_is_the_event_and_the_old_one_follows_to_it(client, renamed):
    assert client.get(f"/events/{NEW}").status_code == 200
    page = client.get(f"/events/{OLD}", follow_redirects=True)
    assert page.status_code == 200
    assert "Bolivia: what next?" in text_of(page)


def test_an_address_nobody_had_is_still_a_404(client, renamed):
    assert client.get("/events/never-was").status_code == 404
    assert client.get("/events/never-was/register").status_code == 404
    assert client.get("/events/bolivia%00what").status_code == 404


def test_an_old_address_cannot_be_taken_by_another_event(app, renamed, make_event):
    make_event(slug="another-meeting")
    response = rename(renamed, "another-meeting", OLD)
    assert response.status_code == 400
    assert "This was another event's address, and still leads to it." in text_of(response)
    response = renamed.post(
        "/organisers/events/new", data=form(renamed, "/organisers/events/new", slug=OLD)
    )
    assert response.status_code == 400
    assert renamed.get(f"/events/{OLD}").location == f"/events/{NEW}"


def test_the_import_refuses_an_old_address_too(app, renamed, runner, tmp_path):
    with app.app_context(), pytest.raises(EventDataError, match="old address of another event"):
        events.import_events(event_data(slug=OLD))
    data = tmp_path / "events.json"
    data.write_text(json.dumps(event_data(slug=OLD)))
    result = runner.invoke(args=["events", "import", str(data)])
    assert result.exit_code != 0
    assert "old address of another event" in result.output
    with app.app_context():
        assert events.get_event(OLD) is None


def test_renaming_back_takes_the_old_address_again(client, renamed):
    assert rename(renamed, NEW, OLD).status_code == 302
    assert client.get(f"/events/{OLD}").status_code == 200
    assert client.get(f"/events/{NEW}").location == f"/events/{OLD}"
    assert rename(renamed, OLD, NEW).status_code == 302  # and forth again
    assert client.get(f"/events/{OLD}").location == f"/events/{NEW}"


def test_a_drafts_old_address_reveals_nothing(app, client, make_event, organiser_client):
    make_event(slug=OLD, status="draft")
    assert rename(organiser_client, OLD, NEW).status_code == 302
    with app.app_context():
        assert events.get_event(NEW) is not None
        assert db.session.scalars(db.select(EventSlug.slug)).all() == [OLD]
    assert client.get(f"/events/{OLD}").status_code == 404
    assert client.get(f"/events/{OLD}.ics").status_code == 404

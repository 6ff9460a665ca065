"""The JSON API that campaign websites embed."""

from __future__ import annotations

from datetime import datetime

from tests.events.fixtures import SECRET_JOIN_URL


def test_event_json_has_times_with_offsets_and_absolute_urls(client, make_event):
    make_event()
    response = client.get("/api/events/solidarity-meeting")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert data["starts_at"] == "2027-04-19T18:30:00+01:00"
    assert data["ends_at"] == "2027-04-19T20:00:00+01:00"
    assert datetime.fromisoformat(data["starts_at"]).utcoffset().total_seconds() == 3600
    assert data["timezone"] == "Europe/London"
    assert data["url"] == "https://events.example.org/events/solidarity-meeting"
    assert data["ics_url"] == "https://events.example.org/events/solidarity-meeting.ics"
    assert data["title_es"] == "Reunión de solidaridad"
    assert data["description_html"] == "<p>We meet to <strong>organise</strong>.</p>\n"
    assert data["supporters"] == ["Labour Friends of Progressive Latin America"]
    assert data["people"] == [
        {"name": "Ollie Vargas", "role": "speaker", "affiliation": "Journalist"},
        {"name": "Christine Blower", "role": "chair", "affiliation": "LFPLA"},
    ]


def test_json_never_carries_private_fields(client, make_event):
    make_event()
    for path in ("/api/events", "/api/events/solidarity-meeting"):
        body = client.get(path).get_data(as_text=True)
        assert SECRET_JOIN_URL not in body
        assert "join_url" not in body
        assert "@example.org" not in body
        assert "capacity" not in body


def test_list_is_upcoming_only(client, make_event):
    make_event()
    make_event(
        slug="old", starts_at="2020-01-01T18:00:00+00:00", ends_at="2020-01-01T19:00:00+00:00"
    )
    make_event(slug="hidden", status="draft")
    slugs = [event["slug"] for event in client.get("/api/events").get_json()["events"]]
    assert slugs == ["solidarity-meeting"]


def test_unknown_event_is_404(client):
    assert client.get("/api/events/nope").status_code == 404

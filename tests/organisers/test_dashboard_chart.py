"""The dashboard's chart and the organisers' full-width layout, as an organiser sees them."""

from __future__ import annotations

import re
from datetime import timedelta

from service import PROJECT_ROOT
from service.db import utc_now
from service.registration.models import RegistrationStatus
from tests.organisers.conftest import logged_in

DASHBOARD = "/organisers/"


def svg_of(page: str) -> str:
    match = re.search(r'<svg viewBox="0 0 \d+ \d+"[^>]*role="img".*?</svg>', page, re.S)
    assert match, "no chart on the dashboard"
    return match.group(0)


def y_labels(svg: str) -> list[str]:
    return re.findall(r'<text x="38" y="[\d.]+" text-anchor="end">([^<]+)</text>', svg)


def test_the_chart_scales_to_one_or_twelve_registrations(
    client, organiser, make_event, make_registration
):
    lone = make_event(slug="lone", title="Lone meeting", capacity=None)
    busy = make_event(slug="busy", title="Busy meeting", capacity=None)
    yesterday = utc_now() - timedelta(days=1)
    make_registration(lone.id, "one@example.org", created_at=yesterday)
    for n in range(12):
        make_registration(busy.id, f"p{n}@example.org", created_at=yesterday)
    page = logged_in(client, organiser).get(DASHBOARD).get_data(as_text=True)
    [lone_svg, busy_svg] = sorted(
        (svg_of(part) for part in page.split("<figure")[1:]), key=lambda svg: "Busy" in svg
    )
    assert y_labels(lone_svg) == ["0", "1"]
    assert y_labels(busy_svg) == ["0", "5", "10", "15"]
    assert "<title" in lone_svg and "1 confirmed, 0 waiting" in lone_svg
    assert "12 confirmed, 0 waiting" in busy_svg
    # The same numbers as a table beside the picture.
    assert re.search(r'<table class="table chart__table">.*<td class="num">12</td>', page, re.S)


def test_capacity_is_a_line_and_the_waiting_list_is_stacked(
    client, organiser, make_event, make_registration
):
    event = make_event(capacity=2)
    earlier = utc_now() - timedelta(days=2)
    make_registration(event.id, "a@example.org", created_at=earlier)
    make_registration(event.id, "b@example.org", created_at=earlier)
    make_registration(
        event.id, "c@example.org", created_at=earlier, status=RegistrationStatus.WAITING
    )
    svg = svg_of(logged_in(client, organiser).get(DASHBOARD).get_data(as_text=True))
    assert 'class="chart__capacity"' in svg and "Capacity 2" in svg
    assert svg.count('class="chart__waiting"') == 3  # one for each day drawn
    assert "2 confirmed, 1 waiting" in svg


def test_the_chart_speaks_the_pages_language(client, organiser, make_event, make_registration):
    event = make_event()
    make_registration(event.id, "a@example.org", created_at=utc_now() - timedelta(days=1))
    logged_in(client, organiser)
    client.get("/language/es")
    page = client.get(DASHBOARD).get_data(as_text=True)
    assert "Inscripciones a lo largo del tiempo" in page
    assert "confirmadas: 1, en espera: 0" in page
    months = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"]
    assert any(f" {month}</text>" in svg_of(page) for month in months)


def test_no_chart_for_an_event_nobody_has_registered_for(client, organiser, make_event):
    make_event()
    page = logged_in(client, organiser).get(DASHBOARD).get_data(as_text=True)
    assert "<svg" not in page.split('id="events-heading"')[1]


def test_organiser_pages_take_the_full_width_and_public_pages_do_not(client, organiser, make_event):
    make_event()
    logged_in(client, organiser)
    for path in (DASHBOARD, "/organisers/events/solidarity-meeting/attendees"):
        assert 'class="org-page"' in client.get(path).get_data(as_text=True), path
    assert "org-page" not in client.get("/events/solidarity-meeting").get_data(as_text=True)
    stylesheet = (PROJECT_ROOT / "service" / "static" / "style.css").read_text()
    assert "body:has(.org-page) .wrap { max-width: 96rem; }" in stylesheet

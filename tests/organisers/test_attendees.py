"""The attendee table: check-in, counts, search and paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from service.extensions import db
from service.registration.models import JoinClick, Registration, RegistrationStatus
from tests.events.test_pages import text_of
from tests.organisers.conftest import csrf_token, logged_in

SLUG = "solidarity-meeting"
ATTENDEES = f"/organisers/events/{SLUG}/attendees"
REGISTERED_AT = datetime(2027, 3, 1, 12, tzinfo=UTC)
ROW = re.compile(r'<tr id="attendee-(\d+)"')


def rows_on(response) -> list[int]:
    return [int(found) for found in ROW.findall(response.get_data(as_text=True))]


def checked_in_at(app, registration_id: int) -> datetime | None:
    with app.app_context():
        return db.session.get(Registration, registration_id).checked_in_at


def check_in(client, registration_id: int, slug: str = SLUG, **fields):
    token = csrf_token(client, f"/organisers/events/{slug}/attendees")
    return client.post(
        f"/organisers/events/{slug}/attendees/{registration_id}/check-in",
        data={"csrf_token": token, **fields},
    )


def count(page: str, label: str) -> int:
    found = re.search(rf"(\d+) {label}\b", page)
    assert found, f"no count of {label} in {page[:500]}"
    return int(found.group(1))


# --- Check-in ----------------------------------------------------------------------------------


@pytest.fixture
def attendee(make_event, make_registration):
    event = make_event()
    return make_registration(
        event.id, "ana@example.org", name="Ana Flores", created_at=REGISTERED_AT
    )


def test_check_in_and_undo(app, client, organiser, attendee):
    logged_in(client, organiser)
    page = client.get(ATTENDEES).get_data(as_text=True)
    assert 'Check in<span class="visually-hidden"> Ana Flores</span>' in page

    before = datetime.now(UTC)
    response = check_in(client, attendee.id, q="ana", page="1")
    assert response.status_code == 302
    assert response.location == f"{ATTENDEES}?q=ana&page=1#attendee-{attendee.id}"
    moment = checked_in_at(app, attendee.id)
    assert moment is not None and before - timedelta(seconds=1) <= moment <= datetime.now(UTC)
    assert ": Undo check-in for Ana Flores</span>" in client.get(ATTENDEES).get_data(as_text=True)

    undone = check_in(client, attendee.id, checked_in="0")
    assert undone.status_code == 302
    assert checked_in_at(app, attendee.id) is None
    assert 'Check in<span class="visually-hidden"> Ana Flores</span>' in client.get(
        ATTENDEES
    ).get_data(as_text=True)


def test_checking_in_twice_keeps_one_check_in(app, client, organiser, attendee):
    logged_in(client, organiser)
    check_in(client, attendee.id)
    check_in(client, attendee.id)
    assert checked_in_at(app, attendee.id) is not None
    assert count(text_of(client.get(ATTENDEES)), "checked in") == 1


def test_a_registration_of_another_event_is_not_found(
    app, client, organiser, attendee, make_event, make_registration
):
    other_event = make_event(slug="other-meeting", title="Another meeting")
    stranger = make_registration(other_event.id, "luis@example.org", created_at=REGISTERED_AT)
    logged_in(client, organiser)
    assert check_in(client, stranger.id).status_code == 404  # through the wrong event's URL
    assert checked_in_at(app, stranger.id) is None
    assert check_in(client, 999_999).status_code == 404
    token = csrf_token(client, ATTENDEES)
    missing_event = client.post(
        f"/organisers/events/no-such-event/attendees/{attendee.id}/check-in",
        data={"csrf_token": token},
    )
    assert missing_event.status_code == 404
    assert checked_in_at(app, attendee.id) is None
    assert client.get("/organisers/events/no-such-event/attendees").status_code == 404
    # Through its own event's URL it works.
    assert check_in(client, stranger.id, slug="other-meeting").status_code == 302
    assert checked_in_at(app, stranger.id) is not None


def test_counts_follow_check_ins(app, client, organiser, make_event, make_registration):
    event = make_event()
    people = [
        make_registration(event.id, f"p{n}@example.org", created_at=REGISTERED_AT) for n in range(3)
    ]
    make_registration(
        event.id, "wait@example.org", status=RegistrationStatus.WAITING, created_at=REGISTERED_AT
    )
    gone = make_registration(
        event.id,
        "gone@example.org",
        status=RegistrationStatus.CANCELLED,
        cancelled_at=REGISTERED_AT,
        created_at=REGISTERED_AT,
    )
    with app.app_context():
        db.session.add(JoinClick(registration_id=people[0].id, clicked_at=REGISTERED_AT))
        db.session.commit()
    logged_in(client, organiser)

    page = text_of(client.get(ATTENDEES))
    assert count(page, "registered") == 3
    assert count(page, "waiting") == 1
    assert count(page, "cancelled") == 1
    assert count(page, "checked in") == 0
    assert count(page, "joined online") == 1
    assert "5 people" in page
    # Only confirmed people get a check-in button.
    assert 'aria-label="Check in Gone"' not in client.get(ATTENDEES).get_data(as_text=True)
    assert gone.id in rows_on(client.get(ATTENDEES))

    check_in(client, people[0].id)
    check_in(client, people[1].id)
    assert count(text_of(client.get(ATTENDEES)), "checked in") == 2
    dashboard = client.get("/organisers/").get_data(as_text=True)
    assert re.search(r'<td class="num">2</td>\s*</tr>', dashboard)  # checked in, last column

    check_in(client, people[0].id, checked_in="0")
    page = text_of(client.get(ATTENDEES))
    assert count(page, "checked in") == 1
    assert count(page, "registered") == 3  # checking in moves nobody between lists


# --- Search and paging -------------------------------------------------------------------------


@pytest.fixture
def crowd(app, make_event):
    """120 registrations: every seventh a Quispe, every tenth from a union, every fifth waiting."""
    event = make_event(capacity=None)
    with app.app_context():
        people = []
        for n in range(120):
            people.append(
                Registration(
                    event_id=event.id,
                    email=f"person{n:03d}@example.org",
                    name=f"Quispe Mamani {n:03d}" if n % 7 == 0 else f"Person {n:03d}",
                    organisation="Unite the Union" if n % 10 == 0 else "",
                    status=RegistrationStatus.WAITING
                    if n % 5 == 0
                    else RegistrationStatus.CONFIRMED,
                    created_at=REGISTERED_AT + timedelta(minutes=n),
                )
            )
        db.session.add_all(people)
        db.session.commit()
        return [person.id for person in people]


def test_pages_of_fifty_in_registration_order(client, organiser, crowd):
    logged_in(client, organiser)
    first = client.get(ATTENDEES)
    assert rows_on(first) == crowd[:50]
    page = text_of(first)
    assert "120 people" in page
    assert "Page 1 of 3" in page
    assert f'rel="next" href="{ATTENDEES}?page=2&amp;status=all"' in first.get_data(as_text=True)
    assert 'rel="prev"' not in first.get_data(as_text=True)

    second = client.get(f"{ATTENDEES}?page=2")
    assert rows_on(second) == crowd[50:100]
    assert "Page 2 of 3" in text_of(second)
    assert 'rel="prev"' in second.get_data(as_text=True)

    last = client.get(f"{ATTENDEES}?page=3")
    assert rows_on(last) == crowd[100:]
    assert 'rel="next"' not in last.get_data(as_text=True)


@pytest.mark.parametrize("page", ["0", "-3", "abc", ""])
def test_a_nonsense_page_number_shows_the_first_page(client, organiser, crowd, page):
    logged_in(client, organiser)
    response = client.get(f"{ATTENDEES}?page={page}")
    assert response.status_code == 200
    assert rows_on(response) == crowd[:50]


def test_a_page_past_the_end_is_empty_not_an_error(client, organiser, crowd):
    logged_in(client, organiser)
    response = client.get(f"{ATTENDEES}?page=99")
    assert response.status_code == 200
    assert rows_on(response) == []
    assert "Nobody matches." in text_of(response)


def test_search_by_name_is_case_insensitive(client, organiser, crowd):
    quispes = [crowd[n] for n in range(0, 120, 7)]
    logged_in(client, organiser)
    for query in ("quispe", "QUISPE", "  Quispe  "):
        response = client.get(f"{ATTENDEES}?q={query}")
        assert rows_on(response) == quispes
        assert f"{len(quispes)} people" in text_of(response)


def test_search_by_email_and_organisation(client, organiser, crowd):
    logged_in(client, organiser)
    assert rows_on(client.get(f"{ATTENDEES}?q=PERSON042@example")) == [crowd[42]]
    union = client.get(f"{ATTENDEES}?q=unite")
    assert rows_on(union) == [crowd[n] for n in range(0, 120, 10)]
    assert "Unite the Union" in text_of(union)
    none = client.get(f"{ATTENDEES}?q=nobody-like-this")
    assert rows_on(none) == []
    assert "Nobody matches." in text_of(none)


def test_search_pages_and_keeps_the_search_in_the_links(client, organiser, crowd):
    logged_in(client, organiser)
    # "Person 0" matches the names Person 000 to Person 099 that are not Quispes (every
    # seventh), and no email address (they have no space): 85 people, two pages.
    matching = [crowd[n] for n in range(100) if n % 7]
    first = client.get(f"{ATTENDEES}?q=person+0")
    assert "85 people" in text_of(first)
    assert "Page 1 of 2" in text_of(first)
    assert rows_on(first) == matching[:50]
    html = first.get_data(as_text=True)
    assert f'rel="next" href="{ATTENDEES}?page=2&amp;q=person+0&amp;status=all"' in html
    assert 'value="person 0"' in html  # the search box keeps what was typed
    second = client.get(f"{ATTENDEES}?q=person+0&status=all&page=2")
    assert rows_on(second) == matching[50:]


def test_status_filter(client, organiser, crowd):
    logged_in(client, organiser)
    waiting = client.get(f"{ATTENDEES}?status=waiting")
    assert rows_on(waiting) == [crowd[n] for n in range(0, 120, 5)]
    assert "24 people" in text_of(waiting)
    registered = client.get(f"{ATTENDEES}?status=registered&page=2")
    assert rows_on(registered) == [crowd[n] for n in range(120) if n % 5][50:]
    assert "96 people" in text_of(registered)
    assert rows_on(client.get(f"{ATTENDEES}?status=cancelled")) == []
    # An unknown filter shows everyone.
    assert "120 people" in text_of(client.get(f"{ATTENDEES}?status=bogus"))
    both = client.get(f"{ATTENDEES}?status=waiting&q=quispe")
    assert rows_on(both) == [crowd[n] for n in range(0, 120, 35)]


def test_markup_in_a_search_is_shown_as_text(client, organiser, crowd):
    logged_in(client, organiser)
    html = client.get(f'{ATTENDEES}?q="><script>alert(1)</script>').get_data(as_text=True)
    assert "<script>alert(1)" not in html


@pytest.mark.parametrize("query", ["_", "%", "person_00"])
def test_like_wildcards_in_a_search_are_taken_literally(client, organiser, crowd, query):
    logged_in(client, organiser)
    assert rows_on(client.get(f"{ATTENDEES}?q={query.replace('%', '%25')}")) == []


def test_check_in_returns_to_the_same_filtered_page(client, organiser, crowd):
    logged_in(client, organiser)
    page = client.get(f"{ATTENDEES}?status=registered&page=2")
    registration_id = rows_on(page)[0]
    response = client.post(
        f"{ATTENDEES}/{registration_id}/check-in",
        # What the row's form sends: the page's search, filter and page number.
        data={"csrf_token": csrf_token(client, ATTENDEES), "page": "2", "status": "registered"},
    )
    assert "status=registered" in response.location
    assert "page=2" in response.location


def test_search_folds_case_beyond_ascii(app, client, organiser, make_event, make_registration):
    event = make_event()
    ana = make_registration(
        event.id, "wara@example.org", name="Ñusta Wara Álvarez", created_at=REGISTERED_AT
    )
    make_registration(event.id, "luis@example.org", name="Luis Arce", created_at=REGISTERED_AT)
    logged_in(client, organiser)
    assert rows_on(client.get(f"{ATTENDEES}?q=ñusta")) == [ana.id]
    assert rows_on(client.get(f"{ATTENDEES}?q=ÁLVAREZ")) == [ana.id]


def test_a_page_number_past_any_database_offset_is_not_an_error(client, organiser, crowd):
    logged_in(client, organiser)
    response = client.get(f"{ATTENDEES}?page=99999999999999999999")
    assert response.status_code == 200  # the last possible page, empty, not a 500
    assert rows_on(response) == []

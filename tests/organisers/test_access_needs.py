"""Access needs are special-category data: only admins and the event's managers see a
person's, an export has them only when ticked (and is recorded so), the counts are for
planning, retention deletes them; and the headcounts per language followed."""

from __future__ import annotations

import csv
import email
import io
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from sqlalchemy import select

from service.access import service as access
from service.access.models import EventRole
from service.audit.models import AuditEntry
from service.csv_export import ExportRecord
from service.events.models import Event
from service.extensions import db
from service.mail import service as mail
from service.organisers.models import Organiser
from service.registration.export import COLUMN_NAMES
from service.registration.messages import send_announcement
from service.registration.models import Registration, RegistrationStatus
from service.registration.retention import apply_retention
from service.reminders.service import sweep_reminders
from tests.events.test_pages import text_of
from tests.organisers.conftest import csrf_token, logged_in
from tests.organisers.test_retention import everything_in_the_database

SLUG = "solidarity-meeting"
ATTENDEES = f"/organisers/events/{SLUG}/attendees"
DOOR = f"/organisers/events/{SLUG}/door"
EXPORT = f"/organisers/events/{SLUG}/export.csv"
START = datetime(2027, 4, 19, 17, 30, tzinfo=UTC)
REGISTERED_AT = START - timedelta(days=20)
OTHER_NEED = "A chair with arms, near the door"
ACCESS_WORDS = ("Live captions", "British Sign Language", "Step-free", OTHER_NEED, "dial_in")


@pytest.fixture
def meeting(app, make_event, make_registration):
    """A bilingual hybrid meeting: Eva (Spanish, interpreted, captions and step-free, and
    something else), Luis (Spanish, BSL), Ana (English, nothing), Carmen waiting (dial-in)."""
    event = make_event(
        format="hybrid",
        venue="Bolivar Hall",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
        languages=["en", "es"],
        interpretation_es="In Zoom, choose Interpretation, then Spanish",
    )

    def person(email, name, **fields):
        return make_registration(event.id, email, name=name, created_at=REGISTERED_AT, **fields).id

    return {
        "event": event,
        "eva": person(
            "eva@example.org",
            "Eva Copa",
            follows_language="es",
            needs_interpretation=True,
            access_needs=["captions", "step_free"],
            access_needs_other=OTHER_NEED,
        ),
        "luis": person(
            "luis@example.org", "Luis Arce", follows_language="es", access_needs=["bsl"]
        ),
        "ana": person("ana@example.org", "Ana López", follows_language="en"),
        "carmen": person(
            "carmen@example.org",
            "Carmen Ruiz",
            follows_language="en",
            access_needs=["dial_in"],
            status=RegistrationStatus.WAITING,
        ),
    }


def with_role(app, make_organiser, meeting, email: str, role: EventRole):
    account = make_organiser(email)
    with app.app_context():
        access.grant_event_role(account.id, meeting["event"].id, role)
    return account


@pytest.fixture
def volunteer(app, make_organiser, meeting):
    return with_role(app, make_organiser, meeting, "volunteer@example.org", EventRole.DOOR)


@pytest.fixture
def viewer(app, make_organiser, meeting):
    return with_role(app, make_organiser, meeting, "viewer@example.org", EventRole.VIEWER)


@pytest.fixture
def manager(app, make_organiser, meeting):
    return with_role(app, make_organiser, meeting, "manager@example.org", EventRole.MANAGER)


def export(client, *, access_needs: bool = False):
    data = {"csrf_token": csrf_token(client, ATTENDEES), "columns": COLUMN_NAMES}
    if access_needs:
        data["include_access_needs"] = "y"
    return client.post(EXPORT, data=data)


def read_csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def records(app) -> list[ExportRecord]:
    with app.app_context():
        found = list(db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)))
        db.session.expunge_all()
        return found


# --- Who sees a person's access needs --------------------------------------------------------


def test_a_door_volunteer_never_sees_anyones_access_needs(client, volunteer, meeting):
    logged_in(client, volunteer)
    for path in (ATTENDEES, DOOR, f"{DOOR}?q=eva", f"{ATTENDEES}?q=Eva"):
        response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Eva Copa" in html
        for word in (*ACCESS_WORDS, "Access needs", "captions"):
            assert word not in html, (path, word)
    assert export(client).status_code == 403
    assert client.post(EXPORT, data={"columns": COLUMN_NAMES}).status_code in (400, 403)


def test_a_viewer_sees_the_counts_but_not_who_asked(client, viewer, meeting):
    logged_in(client, viewer)
    page = text_of(client.get(ATTENDEES))
    assert "Access needs of the people with a place: captions 1, BSL 1, LSE 0, step-free 1" in page
    for word in ACCESS_WORDS:
        assert word not in page
    assert export(client).status_code == 403


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_the_events_managers_and_admins_see_each_persons(client, request, meeting, who):
    logged_in(client, request.getfixturevalue(who))
    response = client.get(ATTENDEES)
    page = text_of(response)
    assert "Live captions, Step-free access to the room; " + OTHER_NEED in page
    assert "British Sign Language (BSL) interpretation" in page
    assert "Include each person's access needs" in page


def test_a_manager_of_another_event_sees_nothing_of_this_one(
    app, client, make_organiser, make_event, meeting
):
    other = make_event(slug="another-meeting", title="Another meeting")
    account = make_organiser("elsewhere@example.org")
    with app.app_context():
        access.grant_event_role(account.id, other.id, EventRole.MANAGER)
    logged_in(client, account)
    assert client.get(ATTENDEES).status_code == 404
    assert OTHER_NEED not in client.get("/organisers/").get_data(as_text=True)


# --- Exports ----------------------------------------------------------------------------------


def test_a_default_export_leaves_them_out(app, client, manager, meeting):
    logged_in(client, manager)
    response = export(client)
    assert response.status_code == 200
    rows = read_csv(response)
    assert "access_needs" not in rows[0] and "access_needs_other" not in rows[0]
    assert OTHER_NEED not in response.get_data(as_text=True)
    eva = next(row for row in rows if row["name"] == "Eva Copa")
    assert (eva["follows_language"], eva["needs_interpretation"]) == ("es", "yes")
    # Naming the columns is not the tick.
    named = client.post(
        EXPORT,
        data={
            "csrf_token": csrf_token(client, ATTENDEES),
            "columns": [*COLUMN_NAMES, "access_needs", "access_needs_other"],
        },
    )
    assert named.status_code == 302  # refused: not among the columns offered
    [record] = records(app)
    assert "access_needs" not in record.columns


def test_ticked_they_are_exported_and_the_export_is_recorded_as_including_them(
    app, client, manager, meeting
):
    logged_in(client, manager)
    response = export(client, access_needs=True)
    rows = {row["name"]: row for row in read_csv(response)}
    assert rows["Eva Copa"]["access_needs"] == "captions step_free"
    assert rows["Eva Copa"]["access_needs_other"] == OTHER_NEED
    assert rows["Luis Arce"]["access_needs"] == "bsl"
    assert rows["Ana López"]["access_needs"] == ""
    [record] = records(app)
    assert record.columns[-2:] == ["access_needs", "access_needs_other"]
    assert record.rows == 4
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "attendees.export")
        ).all()
        assert entry.detail.endswith("; with access needs")
    assert "with access needs" in text_of(client.get("/organisers/"))


def test_typed_access_needs_cannot_run_as_a_formula(app, client, manager, meeting):
    with app.app_context():
        db.session.get(Registration, meeting["ana"]).access_needs_other = "=HYPERLINK(1)"
        db.session.commit()
    logged_in(client, manager)
    rows = {row["name"]: row for row in read_csv(export(client, access_needs=True))}
    assert rows["Ana López"]["access_needs_other"] == "'=HYPERLINK(1)"


def test_the_command_line_export_needs_the_flag_too(app, runner, meeting, tmp_path):
    plain, ticked = tmp_path / "plain.csv", tmp_path / "ticked.csv"
    assert runner.invoke(args=["events", "export", SLUG, "-o", str(plain)]).exit_code == 0
    assert OTHER_NEED not in plain.read_text()
    result = runner.invoke(args=["events", "export", SLUG, "--access-needs", "-o", str(ticked)])
    assert result.exit_code == 0, result.output
    assert OTHER_NEED in ticked.read_text()
    assert ["access_needs" in record.columns for record in records(app)] == [False, True]


# --- Counts -----------------------------------------------------------------------------------


def test_the_attendee_page_counts_languages_and_needs_of_those_with_a_place(
    client, manager, meeting
):
    logged_in(client, manager)
    page = text_of(client.get(ATTENDEES))
    assert "In English 1 In Spanish 2 (1 needs interpretation)" in page
    # Carmen is waiting: her dial-in is not counted until she has a place.
    assert (
        "Access needs of the people with a place: captions 1, BSL 1, LSE 0, step-free 1, "
        "dial-in 0, other 1" in page
    )


def test_the_dashboard_shows_them_for_upcoming_events(app, client, manager, meeting):
    logged_in(client, manager)
    page = text_of(client.get("/organisers/"))
    assert "Languages and access needs" in page
    assert "In Spanish 2 (1 needs interpretation)" in page
    assert "captions 1, BSL 1" in page


def test_the_door_sees_the_language_headcounts_but_not_the_access_counts(
    client, volunteer, meeting
):
    logged_in(client, volunteer)
    for path in (ATTENDEES, "/organisers/"):
        page = text_of(client.get(path))
        assert "In Spanish 2 (1 needs interpretation)" in page
        assert "captions" not in page and "step-free" not in page


def test_the_spanish_counts(client, manager, meeting):
    logged_in(client, manager)
    client.get("/language/es")
    page = text_of(client.get(ATTENDEES))
    assert "En español 2 (1 necesita interpretación)" in page
    assert "subtítulos 1, LSB 1, LSE 0, sin escalones 1" in page


# --- Never anywhere else ----------------------------------------------------------------------


def test_never_in_mail_to_others_nor_on_public_pages(app, client, organiser, meeting):
    """The organisers' message, the reminders (Eva's tells her the interpreted channel) and
    the speakers' briefs carry nobody's access needs; nor do the public page, API and feeds."""
    with app.app_context():
        event = db.session.get(Event, meeting["event"].id)
        send_announcement(
            db.session.get(Organiser, organiser.id),
            event,
            "registered",
            "Tonight",
            "Hi.",
            START - timedelta(hours=2),
        )
        sweep_reminders(START - timedelta(hours=1))
        mail.dispatch_due(START - timedelta(hours=1))
    mailed = [
        email.message_from_bytes(sent.data, policy=policy.default)
        for sent in app.extensions.get("mail_sent", [])
    ]
    subjects = {str(message["Subject"]) for message in mailed}
    assert {"Tonight", "Starting soon: Solidarity meeting"} <= subjects
    assert any("ollie@example.org" in str(message["To"]) for message in mailed)  # a brief
    for message in mailed:
        for word in ACCESS_WORDS:
            assert word not in message.as_string()
    for path in (f"/events/{SLUG}", f"/api/events/{SLUG}", f"/events/{SLUG}.ics", "/events.ics"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert OTHER_NEED not in response.get_data(as_text=True), path


# --- Retention --------------------------------------------------------------------------------


def test_retention_deletes_them_and_the_language_counts_stay(app, meeting):
    with app.app_context():
        assert OTHER_NEED in everything_in_the_database()
        apply_retention(START + timedelta(days=100))
        remaining = everything_in_the_database()
        assert OTHER_NEED not in remaining
        for code in ("captions", "step_free", "bsl", "dial_in"):
            assert code not in remaining
        rows = db.session.scalars(select(Registration)).all()
        assert all(row.access_needs == [] and row.access_needs_other == "" for row in rows)
        assert sorted(row.follows_language for row in rows) == ["en", "en", "es", "es"]

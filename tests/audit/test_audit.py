"""The audit record: what organisers' actions write to it (never the personal data), who may
read it in the web, ``flask audit list`` and how long entries are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.audit import service as audit
from service.audit.models import AuditEntry
from service.extensions import db
from service.scheduler import jobs
from tests.events.test_pages import text_of
from tests.organisers.conftest import csrf_token, logged_in, login

SLUG = "solidarity-meeting"
ATTENDEE_EMAIL = "ana.flores@example.org"
AUDIT = "/organisers/audit"


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return found


def columns_of(entry: AuditEntry) -> list[str]:
    return [str(getattr(entry, column.key)) for column in AuditEntry.__table__.columns]


@pytest.fixture
def event(make_event, make_registration):
    event = make_event()
    make_registration(event.id, ATTENDEE_EMAIL, name="Ana Flores", created_at=datetime.now(UTC))
    return event


def test_an_export_is_recorded_with_its_account_and_event_and_no_attendees_data(
    app, client, organiser, event
):
    logged_in(client, organiser)
    token = csrf_token(client, f"/organisers/events/{SLUG}/attendees")
    response = client.post(
        f"/organisers/events/{SLUG}/export.csv",
        data={"csrf_token": token, "columns": ["name", "email"]},
    )
    assert response.status_code == 200
    assert ATTENDEE_EMAIL in response.get_data(as_text=True)

    [export] = [entry for entry in entries(app) if entry.action == "attendees.export"]
    assert export.organiser_id == organiser.id
    assert export.actor == organiser.email
    assert export.event_id == event.id
    assert export.subject == SLUG
    assert export.detail == "web; columns: name, email"
    for entry in entries(app):  # the attendee list viewed and the login too
        for value in columns_of(entry):
            assert ATTENDEE_EMAIL not in value and "Ana Flores" not in value


def test_cli_export_is_recorded_without_an_account(app, runner, event):
    result = runner.invoke(args=["events", "export", SLUG, "--columns", "name,email"])
    assert result.exit_code == 0, result.output
    [export] = entries(app)
    assert (export.action, export.organiser_id, export.actor) == ("attendees.export", None, "")
    assert export.detail == "cli; columns: name, email"
    assert ATTENDEE_EMAIL not in " ".join(columns_of(export))


def test_a_failed_login_for_an_unknown_address_never_records_the_address(app, client):
    response = login(client, "Typed.Address@example.org", "some long wrong password")
    assert response.status_code == 401
    [failed] = entries(app)
    assert (failed.action, failed.organiser_id, failed.actor) == ("login.failed", None, "")
    assert failed.detail == "unknown account"
    assert not any("typed.address" in value.lower() for value in columns_of(failed))


def test_logins_failed_and_not_and_logout_are_recorded_for_the_account(app, client, organiser):
    assert login(client, organiser.email, "not the password at all").status_code == 401
    logged_in(client, organiser)
    token = csrf_token(client, "/organisers/")
    client.post("/organisers/logout", data={"csrf_token": token})
    recorded = [(e.action, e.organiser_id, e.detail) for e in entries(app)]
    assert recorded == [
        ("login.failed", organiser.id, "wrong password"),
        ("login", organiser.id, ""),
        ("logout", organiser.id, ""),
    ]


def test_check_in_and_undo_and_status_change_are_recorded(app, client, organiser, event):
    logged_in(client, organiser)
    [registration_id] = [r.id for r in _registrations(app)]
    path = f"/organisers/events/{SLUG}/attendees"
    token = csrf_token(client, path)
    client.post(f"{path}/{registration_id}/check-in", data={"csrf_token": token})
    client.post(f"{path}/{registration_id}/check-in", data={"csrf_token": token, "checked_in": "0"})
    client.post(f"/organisers/events/{SLUG}/status", data={"csrf_token": token, "status": "draft"})
    recorded = [(e.action, e.detail) for e in entries(app) if e.action != "attendees.list"]
    assert recorded[1:] == [
        ("attendees.check_in", f"registration {registration_id}"),
        ("attendees.check_in_undo", f"registration {registration_id}"),
        ("events.status", "published → draft"),
    ]


def _registrations(app):
    from service.registration.models import Registration

    with app.app_context():
        found = list(db.session.scalars(select(Registration)))
        db.session.expunge_all()
        return found


def _write(app, *rows: tuple[str, str, str, datetime]) -> None:
    """Entries as (account email or "", action, subject slug or "", time)."""
    with app.app_context():
        for actor, action, subject, at in rows:
            db.session.add(AuditEntry(actor=actor, action=action, subject=subject, at=at))
        db.session.commit()


DAY = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def test_filters_by_account_action_subject_and_dates(app):
    _write(
        app,
        ("rosa@example.org", "attendees.export", SLUG, DAY - timedelta(days=2)),
        ("rosa@example.org", "attendees.check_in", SLUG, DAY - timedelta(days=1)),
        ("admin@example.org", "attendees.export", "other-event", DAY),
        ("", "login.failed", "", DAY + timedelta(days=1)),
    )
    with app.app_context():

        def actions(**filters) -> list[tuple[str, str]]:
            listed = audit.list_entries(audit.AuditFilter(**filters))
            return [(entry.actor, entry.action) for entry in listed]

        assert actions() == [
            ("", "login.failed"),
            ("admin@example.org", "attendees.export"),
            ("rosa@example.org", "attendees.check_in"),
            ("rosa@example.org", "attendees.export"),
        ]
        assert actions(account=" Rosa@Example.org") == [
            ("rosa@example.org", "attendees.check_in"),
            ("rosa@example.org", "attendees.export"),
        ]
        assert [a for _, a in actions(action="attendees.export")] == ["attendees.export"] * 2
        assert len(actions(action="attendees")) == 3
        assert actions(subject="other-event") == [("admin@example.org", "attendees.export")]
        assert actions(since=DAY - timedelta(days=1), until=DAY + timedelta(hours=1)) == [
            ("admin@example.org", "attendees.export"),
            ("rosa@example.org", "attendees.check_in"),
        ]
        first = audit.list_entries(limit=2)
        rest = audit.list_entries(after=first[-1].id, limit=2)
        assert [e.id for e in first + rest] == [e.id for e in audit.list_entries()]
        assert audit.list_entries(page=2, limit=2) == rest


def test_the_page_is_for_admins_only(client, organiser, admin):
    anonymous = client.get(AUDIT)
    assert anonymous.status_code == 302
    assert anonymous.location.startswith("/organisers/login")
    logged_in(client, organiser)
    assert client.get(AUDIT).status_code == 403
    assert "Audit record" not in text_of(client.get("/organisers/"))


def test_admins_read_filter_and_page_the_record_in_spanish(app, client, admin):
    _write(app, *((f"p{n}@example.org", "attendees.export", SLUG, DAY) for n in range(60)))
    logged_in(client, admin)
    assert "Audit record" in text_of(client.get("/organisers/"))
    spanish = {"Accept-Language": "es"}
    page = client.get(AUDIT, query_string={"action": "attendees.export"}, headers=spanish)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = text_of(page)
    assert "Registro de actividad" in text and "60 entradas" in text
    assert "Asistentes exportados" in text and "2027-03-10 12:00:00" in text
    assert "p59@example.org" in text and "p9@example.org" not in text  # newest first
    assert "action=attendees.export" in page.get_data(as_text=True).split('rel="next"')[1]
    second = text_of(client.get(AUDIT, query_string={"action": "attendees.export", "page": 2}))
    assert "p9@example.org" in second
    one = text_of(client.get(AUDIT, query_string={"account": "p7@example.org"}))
    assert "1 entry" in one


@pytest.mark.parametrize("day", ["yesterday", "2027-02-30", "9999-12-31"])
def test_a_date_that_is_no_date_is_a_clear_error_in_the_pages_language(client, admin, day):
    logged_in(client, admin)
    page = client.get(AUDIT, query_string={"until": day}, headers={"Accept-Language": "es"})
    assert page.status_code == 400
    assert "Las fechas se escriben AAAA-MM-DD" in text_of(page)


def test_a_nul_byte_in_a_filter_is_a_clear_error(client, admin):
    logged_in(client, admin)
    page = client.get(AUDIT, query_string={"account": "a\x00b"}, headers={"Accept-Language": "es"})
    assert page.status_code == 400
    assert "No hemos podido entender esa solicitud" in text_of(page)


def test_cli_lists_newest_first_with_filters(app, runner):
    _write(
        app,
        ("rosa@example.org", "attendees.export", SLUG, DAY - timedelta(days=1)),
        ("", "login.failed", "", DAY),
    )
    lines = runner.invoke(args=["audit", "list"]).output.splitlines()
    assert lines == [
        "2027-03-10T12:00:00+00:00  -  login.failed  -  ",
        f"2027-03-09T12:00:00+00:00  rosa@example.org  attendees.export  {SLUG}  ",
    ]
    only = runner.invoke(args=["audit", "list", "--account", "rosa@example.org"]).output
    assert only.count("\n") == 1 and "rosa@example.org" in only
    assert runner.invoke(args=["audit", "list", "--since", "2027-03-10"]).output.count("\n") == 1
    assert runner.invoke(args=["audit", "list", "--limit", "1"]).output.startswith("2027-03-10")


def test_retention_removes_only_entries_older_than_the_retention_period(app, runner):
    now = datetime.now(UTC)
    _write(
        app,
        ("", "login.failed", "", now - timedelta(days=366)),
        ("", "login.failed", "", now - timedelta(days=364)),
    )
    result = runner.invoke(args=["retention", "apply"])
    assert "deleted 1 audit entry(ies)" in result.output
    [kept] = entries(app)
    assert kept.at > now - timedelta(days=365)
    assert "audit" not in runner.invoke(args=["retention", "apply"]).output


def test_signature_export_and_moderation_are_recorded_without_the_signatories_data(
    app, client, organiser, statement, add_signatories
):
    [signature_id] = add_signatories(statement.id, ["Juana Mamani"])
    logged_in(client, organiser)
    path = f"/organisers/statements/{statement.slug}"
    token = csrf_token(client, f"{path}/signatures")
    exported = client.post(
        f"{path}/export.csv", data={"csrf_token": token, "columns": ["name", "email"]}
    )
    assert "Juana Mamani" in exported.get_data(as_text=True)
    client.post(f"{path}/signatures/{signature_id}/hide", data={"csrf_token": token})
    recorded = [(e.action, e.statement_id, e.detail) for e in entries(app)]
    assert ("signatures.export", statement.id, "web; columns: name, email") in recorded
    assert ("signatures.moderate", statement.id, f"hide signature {signature_id}") in recorded
    for entry in entries(app):
        assert not any("Juana" in value or "signer0" in value for value in columns_of(entry))


def test_the_nightly_retention_job_purges_old_entries_too(app):
    now = datetime.now(UTC)
    _write(app, ("", "logout", "", now - timedelta(days=11)), ("", "login", "", now))
    app.config["AUDIT_RETENTION_DAYS"] = 10
    jobs.remove_old_personal_data(app)
    assert [entry.action for entry in entries(app)] == ["login"]

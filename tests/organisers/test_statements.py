"""Organisers write statements and moderate their signatures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from service.csv_export import ExportRecord
from service.db import utc_now
from service.extensions import db
from service.mail.models import OutboxMessage
from service.statements import moderation, service
from service.statements.models import Signature, SignatureStatus, Statement
from tests.events.test_pages import text_of
from tests.organisers.conftest import logged_in
from tests.registration.fixtures import csrf_token
from tests.statements.fixtures import PATH, signatures

FORM = {
    "title": "Solidarity with Bolivia",
    "title_es": "Solidaridad con Bolivia",
    "slug": "solidarity-with-bolivia",
    "summary": "No to a new coup",
    "body": "We, the **undersigned**, stand with Bolivia.",
    "body_es": "Quienes **firmamos** estamos con Bolivia.",
    "open_for_signing": "y",
    "target_count": "500",
}


def test_write_preview_and_publish_a_statement(app, client, organiser):
    logged_in(client, organiser)
    token = csrf_token(client, "/organisers/statements/new")
    created = client.post("/organisers/statements/new", data={"csrf_token": token, **FORM})
    assert created.status_code == 302
    assert created.location == "/organisers/statements/solidarity-with-bolivia/edit"
    assert client.get(PATH).status_code == 404  # a draft until published
    preview = client.get("/organisers/statements/solidarity-with-bolivia/preview")
    assert "Preview: this is how the page looks to the public (status: Draft)" in text_of(preview)
    assert "<strong>undersigned</strong>" in preview.get_data(as_text=True)

    edit = "/organisers/statements/solidarity-with-bolivia/edit"
    assert 'value="500"' in client.get(edit).get_data(as_text=True)
    client.post(edit, data={"csrf_token": token, **FORM, "published": "y"})
    public = text_of(client.get(PATH))
    assert "Solidarity with Bolivia" in public and "Towards our target of 500" in public
    assert "Solidarity with Bolivia" in text_of(client.get("/statements"))
    assert "Solidarity with Bolivia" in text_of(client.get("/organisers/statements"))


def test_bad_statement_input_is_explained_and_kept(app, client, organiser, statement):
    logged_in(client, organiser)
    token = csrf_token(client, "/organisers/statements/new")
    taken = client.post("/organisers/statements/new", data={"csrf_token": token, **FORM})
    assert taken.status_code == 400
    assert "Another statement has this address already." in text_of(taken)
    bad = client.post(
        "/organisers/statements/new",
        data={"csrf_token": token, **FORM, "slug": "Not A Slug", "target_count": "many"},
    )
    assert bad.status_code == 400
    assert "Use lower-case letters, digits and hyphens." in text_of(bad)
    assert "We, the **undersigned**" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Statement).count() == 1


def test_moderation_queue_approve_hide_feature(
    app, client, organiser, make_statement, add_signatories
):
    statement = make_statement(requires_approval=True)
    first, second, private = add_signatories(
        statement.id, ["Rosa Mamani", "Troll McTroll", "Quiet One"]
    )
    with app.app_context():
        for signature in db.session.query(Signature):
            signature.status = SignatureStatus.AWAITING_APPROVAL
        db.session.get(Signature, private).show_name = False
        db.session.commit()
        service.recount(statement.id)
    logged_in(client, organiser)
    queue_path = f"/organisers/statements/{statement.slug}/signatures"
    queue = text_of(client.get(queue_path))
    assert "3 signatures" in queue and "Rosa Mamani" in queue  # awaiting approval shown first
    token = csrf_token(client, queue_path)

    def act(signature_id: int, action: str):
        return client.post(f"{queue_path}/{signature_id}/{action}", data={"csrf_token": token})

    assert act(first, "approve").status_code == 302
    assert act(second, "hide").status_code == 302
    assert act(private, "feature").status_code == 404  # never listed without their yes
    act(private, "approve")
    assert act(first, "feature").status_code == 302
    page = client.get(PATH)
    assert 'class="featured"><strong>Rosa Mamani' in page.get_data(as_text=True)
    assert "Troll McTroll" not in text_of(page)
    assert "2 people have signed" in text_of(page)
    assert act(999_999, "approve").status_code == 404
    assert act(first, "explode").status_code == 404
    assert "Approved" in text_of(client.get(queue_path + "?status=approved"))
    hidden = text_of(client.get(queue_path + "?status=hidden"))
    assert "Troll McTroll" in hidden and "Rosa Mamani" not in hidden
    assert "Rosa Mamani" in text_of(client.get(queue_path + "?q=rosa"))
    assert client.get(queue_path + "?status=nonsense&page=-4").status_code == 200


def test_an_unconfirmed_signature_cannot_be_approved(app, client, organiser, statement):
    with app.app_context():
        signature = Signature(
            statement_id=statement.id, name="Unconfirmed", email="u@example.org", sort_key="u"
        )
        db.session.add(signature)
        db.session.commit()
        signature_id = signature.id
    logged_in(client, organiser)
    path = f"/organisers/statements/{statement.slug}/signatures"
    response = client.post(
        f"{path}/{signature_id}/approve", data={"csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 404
    assert signatures(app)[0].status is SignatureStatus.UNCONFIRMED


def test_signatures_never_confirmed_are_deleted_after_a_while(app, statement):
    now = utc_now()
    with app.app_context():
        old = service.Signer("Old Unconfirmed", "old@example.org")
        service.sign(statement.slug, old, "en", now - timedelta(days=15))
        service.sign(statement.slug, service.Signer("New", "new@example.org"), "en", now)
        service.add_confirmed_signature(
            statement.id,
            service.Signer("Kept", "kept@example.org"),
            "en",
            now - timedelta(days=400),
        )
        assert db.session.query(OutboxMessage).filter_by(recipient="old@example.org").count() == 1
        assert service.purge_unconfirmed(now) == 1
        assert {s.email for s in db.session.query(Signature)} == {
            "new@example.org",
            "kept@example.org",
        }
        assert db.session.query(OutboxMessage).filter_by(recipient="old@example.org").count() == 0


def test_the_kept_counts_always_equal_a_fresh_count(app, client, organiser, make_statement):
    """Every way a signature changes moves the statement's counts by exactly its part."""
    statement = make_statement(requires_approval=True)
    now = utc_now()

    def fresh_counts() -> tuple[int, int]:
        approved = db.session.query(Signature).filter_by(
            statement_id=statement.id, status=SignatureStatus.APPROVED
        )
        return approved.count(), approved.filter_by(show_name=True).count()

    def kept_counts() -> tuple[int, int]:
        kept = db.session.get(Statement, statement.id)
        db.session.refresh(kept)
        return kept.signature_count, kept.listed_count

    with app.app_context():
        for number in range(6):
            signer = service.Signer(f"Person {number}", f"p{number}@example.org")
            service.sign(statement.slug, signer, "en", now)
        ids = [s.id for s in db.session.query(Signature).order_by(Signature.id)]
        for signature in db.session.query(Signature).filter(Signature.id.in_(ids[:3])):
            signature.show_name = True
        db.session.commit()
        steps = [
            lambda: service.confirm_signature(ids[0], now),
            lambda: service.confirm_signature(ids[1], now),
            lambda: service.confirm_signature(ids[3], now),
            lambda: moderation.moderate(statement.id, ids[0], moderation.ModerationAction.APPROVE),
            lambda: moderation.moderate(statement.id, ids[1], moderation.ModerationAction.FEATURE),
            lambda: moderation.moderate(statement.id, ids[3], moderation.ModerationAction.APPROVE),
            lambda: moderation.moderate(statement.id, ids[1], moderation.ModerationAction.HIDE),
            lambda: moderation.moderate(statement.id, ids[1], moderation.ModerationAction.APPROVE),
            lambda: service.confirm_signature(ids[0], now),  # twice: no change
            lambda: service.withdraw(ids[1]),
            lambda: service.withdraw(ids[4]),  # never confirmed
            lambda: service.add_confirmed_signature(
                statement.id,
                service.Signer("Paper", "paper@example.org", show_name=True),
                "en",
                now,
            ),
            lambda: service.purge_unconfirmed(now + timedelta(days=30)),
        ]
        seen = []
        for step in steps:
            step()
            assert kept_counts() == fresh_counts()
            seen.append(kept_counts())
        assert seen[-1] == (3, 2)  # Person 0 and Paper listed; Person 3 counted only


def test_signatures_export_is_safe_to_open_and_recorded(
    app, client, organiser, statement, add_signatories, runner
):
    with app.app_context():
        for number, (name, town) in enumerate(
            [
                ('=HYPERLINK("http://evil.example","click")', "+44 20"),
                ("Añez Choquehuanca ✊🏽", "\tTab Town"),
                ("@SUM(A1)", "\rReturn"),
                ("-2+3", "La Paz"),
            ]
        ):
            signer = service.Signer(name, f"s{number}@example.org", town=town, show_name=True)
            service.add_confirmed_signature(statement.id, signer, "es", utc_now())
    logged_in(client, organiser)
    page = f"/organisers/statements/{statement.slug}/signatures"
    response = client.post(
        f"/organisers/statements/{statement.slug}/export.csv",
        data={
            "csrf_token": csrf_token(client, page),
            "columns": ["name", "email", "town", "status"],
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "solidarity-with-bolivia-signatures-" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == ["name", "email", "town", "status"]
    assert [row["name"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "Añez Choquehuanca ✊🏽",
        "'@SUM(A1)",
        "'-2+3",
    ]
    assert [row["town"] for row in rows] == ["'+44 20", "'\tTab Town", "'\rReturn", "La Paz"]
    assert {row["status"] for row in rows} == {"approved"}
    dashboard = text_of(client.get("/organisers/"))
    assert "signatures of Solidarity with Bolivia, 4 rows, rosa@example.org" in dashboard

    result = runner.invoke(args=["statements", "export", statement.slug, "--columns", "name"])
    assert result.exit_code == 0, result.output
    assert "Añez Choquehuanca ✊🏽" in result.output
    with app.app_context():
        records = db.session.query(ExportRecord).order_by(ExportRecord.id).all()
        assert [(r.via, r.rows, r.statement_id, r.event_id) for r in records] == [
            ("web", 4, statement.id, None),
            ("cli", 4, statement.id, None),
        ]


def test_the_signatures_export_needs_a_column(app, client, organiser, statement):
    logged_in(client, organiser)
    page = f"/organisers/statements/{statement.slug}/signatures"
    response = client.post(
        f"/organisers/statements/{statement.slug}/export.csv",
        data={"csrf_token": csrf_token(client, page)},
    )
    assert response.status_code == 302
    assert "Tick at least one column to export." in text_of(client.get(response.location))

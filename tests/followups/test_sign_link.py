"""The follow-up's call to sign: its link opens the statement's form with the registrant's
name and email in it, signing stays double opt-in, and the statement counts (only counts)
the signatures that came from each event's follow-up."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import itsdangerous.timed
import pytest

from service import page_cache
from service.access import service as access
from service.access.models import StatementRole
from service.db import utc_now
from service.extensions import db
from service.organisers import service as organisers
from service.statements import service
from service.statements.models import Signature, SignatureStatus
from tests.events.test_pages import text_of
from tests.followups.conftest import NEXT_MORNING, deliver, save
from tests.followups.test_follow_ups import send_due
from tests.registration.fixtures import csrf_token
from tests.statements.fixtures import PATH as STATEMENT_PATH
from tests.statements.fixtures import SLUG as STATEMENT_SLUG
from tests.statements.fixtures import link, sign, signatures

AFTER = NEXT_MORNING + timedelta(minutes=1)
SIGN_LINK = re.compile(r"https://events\.example\.org(/statements/[\w-]+\?via=[\w.-]+)#sign")


@pytest.fixture
def sign_path(app, organiser, meeting, smtp) -> str:
    """The sign link in Ana's follow-up (she attended)."""
    save(organiser, meeting)
    send_due(app, AFTER)
    deliver(app, AFTER)
    [message] = smtp.to("ana@example.org")
    smtp.messages.clear()
    return SIGN_LINK.search(message.get_body(("plain",)).get_content()).group(1)


def value_of(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else None


def test_the_link_fills_in_the_form_and_the_signature_counts_for_the_event(
    app, client, meeting, sign_path, smtp
):
    assert "Ana" not in sign_path and "ana%40" not in sign_path  # nobody's name in the address
    response = client.get(sign_path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert value_of(page, "name") == "Ana"
    assert value_of(page, "email") == "ana@example.org"

    signed = sign(
        client,
        sign_path,
        name="Ana Flores",
        email="ana@example.org",
        via=value_of(page, "via"),
    )
    assert signed.status_code == 302
    [signature] = signatures(app)
    assert signature.status is SignatureStatus.UNCONFIRMED  # still double opt-in
    assert signature.source_event_id == meeting.event_id
    assert "signed after" not in text_of(client.get(STATEMENT_PATH))  # not counted yet

    deliver(app)
    confirm_path = link(smtp.to("ana@example.org")[0], "confirm")
    client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    public = text_of(client.get(STATEMENT_PATH))
    assert "Ana Flores" in public  # she chose to be listed, as anyone may
    # ...but not beside a count that just went up: that would say she was at the meeting.
    assert "signed after" not in public


def add_from_follow_up(app, meeting, count: int, confirmed_at, **fields) -> None:
    """``count`` approved signatures that came by the meeting's follow-up."""
    with app.app_context():
        db.session.add_all(
            Signature(
                statement_id=meeting.statement_id,
                source_event_id=meeting.event_id,
                name=f"Signer {number}",
                sort_key=f"signer {number}",
                email=f"{uuid.uuid4().hex}@example.org",
                show_name=True,
                status=fields.get("status", SignatureStatus.APPROVED),
                created_at=confirmed_at,
                confirmed_at=confirmed_at,
            )
            for number in range(count)
        )
        db.session.commit()
        page_cache.clear_pages(service.page_scope(STATEMENT_SLUG))


def test_the_public_page_names_an_event_from_five_signatures_confirmed_before_today(
    app, client, meeting
):
    yesterday = utc_now() - timedelta(days=1)
    add_from_follow_up(app, meeting, 4, yesterday)
    add_from_follow_up(app, meeting, 1, yesterday, status=SignatureStatus.HIDDEN)
    add_from_follow_up(app, meeting, 3, utc_now())  # today's: counted tomorrow
    assert "signed after" not in text_of(client.get(STATEMENT_PATH))
    add_from_follow_up(app, meeting, 1, yesterday)
    assert "5 signed after Solidarity meeting" in text_of(client.get(STATEMENT_PATH))


def test_the_statements_organisers_see_the_count_per_event(
    app, client, organiser, meeting, sign_path, smtp
):
    page = client.get(sign_path).get_data(as_text=True)
    sign(client, sign_path, name="Ana", email="ana@example.org", via=value_of(page, "via"))
    sign(client, name="Someone Else", email="else@example.org")  # came another way
    deliver(app)
    for address in ("ana@example.org", "else@example.org"):
        confirm_path = link(smtp.to(address)[0], "confirm")
        client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    with app.app_context():
        olga = organisers.find_organiser("organiser@example.org")
        access.grant_statement_role(olga.id, meeting.statement_id, StatementRole.MANAGER)
    manage = text_of(organiser.get("/organisers/statements/solidarity-with-bolivia/signatures"))
    # The statement's organisers see the live count, however small.
    assert "Signed after a meeting's follow-up 1 Solidarity meeting" in manage


def test_a_forged_or_expired_link_opens_the_empty_form(app, client, sign_path, monkeypatch):
    forged = client.get(STATEMENT_PATH + "?via=not-a-token")
    assert forged.status_code == 200
    assert not value_of(forged.get_data(as_text=True), "name")

    tampered = client.get(sign_path[:-3] + "abc")
    assert not value_of(tampered.get_data(as_text=True), "email")

    now = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(  # 31 days on: FOLLOW_UP_SIGN_LINK_DAYS is 30
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: now(self) + 31 * 86400
    )
    expired = client.get(sign_path)
    assert expired.status_code == 200
    page = expired.get_data(as_text=True)
    assert not value_of(page, "name") and "ana@example.org" not in page


def test_signing_with_a_forged_link_records_no_event(app, client, sign_path):
    sign(client, name="Ana", email="ana@example.org", via="not-a-token")
    [signature] = signatures(app)
    assert signature.source_event_id is None


def test_the_link_fills_in_nothing_on_another_statement(app, client, make_statement, sign_path):
    make_statement(slug="another-statement", title="Another statement")
    token = sign_path.partition("?")[2]
    page = client.get(f"/statements/another-statement?{token}").get_data(as_text=True)
    assert not value_of(page, "name")

"""Signing as a person does it: the form, the email, confirming, being listed, withdrawing."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import itsdangerous.timed
import pytest

from service.extensions import db
from service.mail.models import OutboxMessage
from service.statements.models import Signature, SignatureStatus, SignatureWord
from tests.events.test_pages import text_of
from tests.registration.fixtures import csrf_token
from tests.statements.fixtures import PATH, deliver, link, sign, signatures


def test_sign_confirm_listed_withdraw(app, client, smtp, statement):
    page = text_of(client.get(PATH))
    assert "We stand with the people of Bolivia." in page
    assert "0 people have signed" in page

    response = sign(
        client,
        name="Ana Flores",
        email="Ana@Example.org",
        affiliation="General Secretary, Example Union",
        town="Leeds",
        country="UK",
        keep_informed="y",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{PATH}/signed"
    assert "We are emailing you about Solidarity with Bolivia, at the address you gave." in text_of(
        client.get(response.headers["Location"])
    )
    [signature] = signatures(app)
    assert signature.status is SignatureStatus.UNCONFIRMED
    assert signature.email == "ana@example.org"
    assert signature.keep_informed and signature.keep_informed_at is not None
    page = text_of(client.get(PATH))
    assert "0 people have signed" in page and "Ana Flores" not in page  # not before confirming

    deliver(app)
    [message] = smtp.to("ana@example.org")
    assert message["Subject"] == "Please confirm your signature: Solidarity with Bolivia"
    text = message.get_body(("plain",)).get_content()
    assert "Name: Ana Flores" in text
    assert "Title or organisation: General Secretary, Example Union" in text

    confirm_path = link(message, "confirm")
    confirm_page = client.get(confirm_path)
    assert "Confirm your signature" in text_of(confirm_page)
    assert signatures(app)[0].status is SignatureStatus.UNCONFIRMED  # opening it is not enough
    confirmed = client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    assert confirmed.status_code == 200
    assert "Your name is on the public list." in text_of(confirmed)
    assert signatures(app)[0].status is SignatureStatus.APPROVED

    page = text_of(client.get(PATH))
    assert "1 person has signed" in page
    assert "Ana Flores, General Secretary, Example Union (Leeds, UK)" in page
    assert "ana@example.org" not in client.get(PATH).get_data(as_text=True).lower()

    withdraw_path = link(message, "withdraw")
    assert "This removes the signature of Ana Flores" in text_of(client.get(withdraw_path))
    withdrawn = client.post(withdraw_path, data={"csrf_token": csrf_token(client, withdraw_path)})
    assert "Your signature is withdrawn and your details are deleted" in text_of(withdrawn)
    page = text_of(client.get(PATH))
    assert "0 people have signed" in page and "Ana Flores" not in page
    with app.app_context():  # nothing of her is left: signature, name's words, mail
        assert db.session.query(Signature).count() == 0
        assert db.session.query(SignatureWord).count() == 0
        assert not db.session.query(OutboxMessage).filter_by(recipient="ana@example.org").count()
    assert client.get(withdraw_path).status_code == 404
    assert client.get(confirm_path).status_code == 404


def test_unticked_show_name_is_counted_not_listed(app, client, smtp, statement):
    sign(client, name="Quiet Supporter", email="quiet@example.org", show_name=None)
    deliver(app)
    confirm_path = link(smtp.to("quiet@example.org")[0], "confirm")
    done = client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    assert "your name is not listed, as you asked" in text_of(done)
    page = text_of(client.get(PATH))
    assert "1 person has signed" in page
    assert "Quiet Supporter" not in page
    api = client.get("/api/statements/solidarity-with-bolivia").get_json()
    assert api["count"] == 1 and api["signatories"] == []


def test_a_repeat_gets_the_identical_response_and_no_new_row(app, client, smtp, statement):
    first = sign(client, email="ana@example.org", name="Ana Flores")
    again = sign(client, email=" ANA@example.org ", name="Someone Else")
    assert (first.status_code, first.headers["Location"]) == (
        again.status_code,
        again.headers["Location"],
    )
    assert first.get_data() == again.get_data()
    [signature] = signatures(app)
    assert signature.name == "Ana Flores"  # a repeat cannot rewrite anyone's details
    deliver(app)
    assert len(smtp.to("ana@example.org")) == 1  # one copy per few minutes


def test_a_stranger_cannot_tell_who_signed(app, client, smtp, statement, add_signatories):
    add_signatories(statement.id, ["Known Signer"])
    known_email = signatures(app)[0].email
    known = sign(client, email=known_email, name="Known Signer")
    known_page = client.get(known.headers["Location"]).get_data(as_text=True)
    unknown = sign(client, email="nobody@example.org", name="Nobody")
    unknown_page = client.get(unknown.headers["Location"]).get_data(as_text=True)
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known_email not in known_page  # not even the address they typed
    assert known_page == unknown_page


def test_someone_who_signed_already_is_reminded_not_asked_again(
    app, client, smtp, statement, add_signatories
):
    add_signatories(statement.id, ["Rosa Mamani"])
    email = signatures(app)[0].email
    sign(client, email=email, name="Rosa Mamani")
    deliver(app)
    [message] = smtp.to(email)
    assert message["Subject"] == "You have signed: Solidarity with Bolivia"
    assert "/signature/withdraw/" in message.get_body(("plain",)).get_content()
    assert len(signatures(app)) == 1


def test_an_expired_link_offers_a_new_one(app, client, smtp, statement, monkeypatch):
    sign(client, email="late@example.org", name="Late Signer")
    deliver(app)
    confirm_path = link(smtp.to("late@example.org")[0], "confirm")
    now = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(  # eight days on
        itsdangerous.timed.TimestampSigner,
        "get_timestamp",
        lambda self: now(self) + 8 * 24 * 3600,
    )
    expired = client.get(confirm_path)
    assert "This link has expired" in text_of(expired)
    token = csrf_token(client, confirm_path)
    refused = client.post(confirm_path, data={"csrf_token": token})
    assert "This link has expired" in text_of(refused)
    assert signatures(app)[0].status is SignatureStatus.UNCONFIRMED

    renewed = client.post(confirm_path + "/renew", data={"csrf_token": token})
    assert "a new link is on its way" in text_of(renewed)
    deliver(app)
    assert len(smtp.to("late@example.org")) == 2
    fresh = link(smtp.to("late@example.org")[-1], "confirm")
    assert "Confirm your signature" in text_of(client.get(fresh))
    client.post(fresh, data={"csrf_token": token})
    assert signatures(app)[0].status is SignatureStatus.APPROVED


def test_forged_and_foreign_links_are_404(app, client, smtp, statement):
    sign(client, email="ana@example.org")
    deliver(app)
    confirm_path = link(smtp.to("ana@example.org")[0], "confirm")
    assert client.get(confirm_path[:-3] + "abc").status_code == 404
    token = confirm_path.rsplit("/", 1)[1]
    assert client.get(f"/signature/withdraw/{token}").status_code == 404  # wrong purpose
    assert client.get("/signature/confirm/not-a-token").status_code == 404


def test_approval_mode_waits_for_an_organiser(app, client, smtp, make_statement):
    make_statement(requires_approval=True)
    sign(client, email="ana@example.org", name="Ana Flores")
    deliver(app)
    confirm_path = link(smtp.to("ana@example.org")[0], "confirm")
    done = client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    assert "The organisers check each signature before it appears" in text_of(done)
    assert signatures(app)[0].status is SignatureStatus.AWAITING_APPROVAL
    page = text_of(client.get(PATH))
    assert "0 people have signed" in page and "Ana Flores" not in page


def test_honeypot_stores_nothing_and_looks_the_same(app, client, smtp, statement):
    response = sign(client, website="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"] == f"{PATH}/signed"
    assert signatures(app) == []


def test_missing_csrf_is_refused(app, client, statement):
    response = client.post(PATH, data={"name": "Ana", "email": "ana@example.org"})
    assert response.status_code == 400
    assert signatures(app) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "Please enter a valid email address"),
        ({"name": ""}, "Please tell us your name."),
        ({"name": "x" * 10_000}, "Field cannot be longer than 200 characters."),
        ({"name": "Ana\x00Flores"}, "Please remove the invisible control characters"),
        ({"town": "Leeds\x07"}, "Please remove the invisible control characters"),
    ],
)
def test_bad_input_gets_a_clear_message_and_keeps_the_rest(app, client, statement, fields, message):
    response = sign(client, affiliation="Example Union", **fields)
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert 'value="Example Union"' in response.get_data(as_text=True)
    assert signatures(app) == []


def test_emoji_and_accents_are_stored_as_typed(app, client, smtp, statement):
    sign(client, name="Añez Choquehuanca ✊🏽", email="ñ@example.org")
    assert signatures(app)[0].name == "Añez Choquehuanca ✊🏽"


def test_closed_and_draft_statements_take_no_signatures(app, client, make_statement):
    make_statement(open_for_signing=False)
    page = client.get(PATH)
    assert "This statement is closed for signing." in text_of(page)
    assert 'name="email"' not in page.get_data(as_text=True)
    token = csrf_token(client, "/organisers/login")
    client.post(PATH, data={"csrf_token": token, "name": "Ana", "email": "ana@example.org"})
    assert signatures(app) == []


def test_drafts_are_not_public(client, make_statement):
    make_statement(status="draft")
    assert client.get(PATH).status_code == 404
    assert client.get("/api/statements/solidarity-with-bolivia").status_code == 404
    assert "Solidarity with Bolivia" not in text_of(client.get("/statements"))


def test_signing_in_spanish_is_answered_in_spanish(app, client, smtp, statement):
    client.set_cookie("convoca_lang", "es")
    page = text_of(client.get(PATH))
    assert "Estamos con el pueblo de Bolivia." in page
    assert "Firmar la declaración" in page
    sign(client, email="ana@example.org")
    assert signatures(app)[0].language == "es"
    deliver(app)
    [message] = smtp.to("ana@example.org")
    assert message["Subject"] == "Confirma tu firma: Solidaridad con Bolivia"


def test_the_csv_of_signatures_is_not_public(client, statement):
    assert client.get(f"{PATH}.csv").status_code == 404


class TestRateLimit:
    @pytest.fixture
    def app_config(self, smtp):
        from tests.mail.fixtures import smtp_config

        return {
            **smtp_config(smtp),
            "RATELIMIT_ENABLED": True,
            "SIGNATURE_RATE_LIMIT": "2 per minute",
        }

    def test_too_many_signatures_get_a_friendly_429(self, app, client, statement):
        for number in range(2):
            assert sign(client, email=f"p{number}@example.org").status_code == 302
        response = sign(client, email="p3@example.org")
        assert response.status_code == 429
        assert "Please wait a minute and try again." in text_of(response)
        assert client.get(PATH).status_code == 200  # reading is fine
        assert len(signatures(app)) == 2


class TestWithdrawingWithTheFileBackend:
    @pytest.fixture
    def app_config(self, tmp_path, monkeypatch):
        """Mail written as .eml files into this test's own instance folder (the default)."""
        monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path / "instance"))
        return {"MAIL_BACKEND": "file", "MAIL_SERVER": "", "RATELIMIT_ENABLED": False}

    def test_withdrawing_removes_the_signatures_eml_files(self, app, client, statement):
        outbox = Path(app.instance_path) / "outbox"
        sign(client, name="Wara Mamani", email="wara.mamani@example.net")
        sign(client, name="Rosa Quispe", email="rosa.quispe@example.net")
        deliver(app)

        def written_to(address: str) -> list[Path]:
            return [path for path in outbox.glob("*.eml") if address.encode() in path.read_bytes()]

        [first] = written_to("wara.mamani@example.net")
        with first.open("rb") as file:
            message = email.message_from_binary_file(file, policy=policy.default)
        confirm_path = link(message, "confirm")
        client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})

        withdraw_path = link(message, "withdraw")
        client.post(withdraw_path, data={"csrf_token": csrf_token(client, withdraw_path)})
        assert written_to("wara.mamani@example.net") == []
        assert not any(b"Wara Mamani" in path.read_bytes() for path in outbox.glob("*.eml"))
        assert len(written_to("rosa.quispe@example.net")) == 1  # someone else's stays

"""A signer whose signature waited for approval gets one short mail, in their language, when an
organiser approves it: through the outbox, over real SMTP."""

from __future__ import annotations

import pytest

from tests.events.test_pages import text_of
from tests.mail.fixtures import smtp_config
from tests.organisers.conftest import logged_in
from tests.registration.fixtures import csrf_token
from tests.statements.fixtures import PATH, deliver, link, sign, signatures

QUEUE = "/organisers/statements/solidarity-with-bolivia/signatures"


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


def signed_and_confirmed(app, client, smtp, language: str) -> int:
    client.get(f"/language/{language}")
    sign(client, name="Ana Flores", email="ana@example.org")
    deliver(app)
    [message] = smtp.to("ana@example.org")
    path = link(message, "confirm")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    [signature] = signatures(app)
    return signature.id


def act(client, signature_id: int, action: str) -> int:
    path = f"{QUEUE}/{signature_id}/{action}"
    return client.post(path, data={"csrf_token": csrf_token(client, QUEUE)}).status_code


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        (
            "en",
            "Your signature is approved: Solidarity with Bolivia",
            "The organisers have approved your signature under Solidarity with Bolivia",
        ),
        (
            "es",
            "Tu firma está aprobada: Solidaridad con Bolivia",
            "Los organizadores han aprobado tu firma en Solidaridad con Bolivia",
        ),
    ],
)
def test_approving_mails_the_signer_once_in_their_language(
    app, client, smtp, organiser, make_statement, language, subject, words
):
    make_statement(requires_approval=True)
    signer = app.test_client()
    signature_id = signed_and_confirmed(app, signer, smtp, language)
    assert len(smtp.to("ana@example.org")) == 1  # only the confirmation link so far
    logged_in(client, organiser)
    assert act(client, signature_id, "approve") == 302
    deliver(app)
    [_confirm, approved] = smtp.to("ana@example.org")
    assert approved["Subject"] == subject
    text = approved.get_body(("plain",)).get_content()
    assert words in text
    assert "/signature/withdraw/" in text
    assert "Ana Flores" in text_of(signer.get(PATH))
    # Hidden and approved again, or featured: still the one mail.
    assert act(client, signature_id, "hide") == 302
    assert act(client, signature_id, "approve") == 302
    assert act(client, signature_id, "feature") == 302
    deliver(app)
    assert len(smtp.to("ana@example.org")) == 2


def test_no_approval_mail_where_no_approval_is_asked(app, client, smtp, organiser, statement):
    signature_id = signed_and_confirmed(app, app.test_client(), smtp, "en")
    logged_in(client, organiser)
    assert act(client, signature_id, "feature") == 302
    assert act(client, signature_id, "approve") == 302
    deliver(app)
    assert len(smtp.to("ana@example.org")) == 1

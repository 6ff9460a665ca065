"""Unsubscribe links in reminders: confirm page, one-click POST (RFC 8058), forged links; and
the attacks on it: links that name the address, mail that goes again after unsubscribing."""

from __future__ import annotations

import base64
import binascii
import contextlib
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from service.extensions import db
from service.mail import service, unsubscribe
from service.mail.models import (
    UNSUBSCRIBABLE_KINDS,
    MessageKind,
    MessageStatus,
    OutboxMessage,
)
from tests.events.test_pages import text_of

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
ADDRESS = "Ana.Quispe@Example.org"


def link_path(app, email=ADDRESS, kind=MessageKind.REMINDER) -> str:
    with app.app_context():
        return urlsplit(service.unsubscribe_link(email, kind)).path


def unsubscribed(app, email=ADDRESS, kind=MessageKind.REMINDER) -> bool:
    with app.app_context():
        return service.is_unsubscribed(email, kind)


def queue(key: str, *, kind=MessageKind.REMINDER, to=ADDRESS, name="Ana", now=NOW) -> None:
    service.queue_message(
        kind=kind,
        dedupe_key=key,
        to=to,
        name=name,
        language="en",
        template="mail/test_message",
        params={"body": "The meeting is on."},
        now=now,
    )
    db.session.commit()


def status_of(key: str) -> tuple[MessageStatus, str]:
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    return row.status, row.last_error


def test_get_asks_before_acting(app, client):
    page = client.get(link_path(app))
    assert page.status_code == 200
    assert (
        "Stop sending reminders before the meetings you register for to the address this link "
        "was sent to?"
    ) in text_of(page)
    assert "quispe" not in page.get_data(as_text=True).lower()
    assert not unsubscribed(app)


def test_confirming_stops_that_kind_of_mail(app, client):
    response = client.post(link_path(app))
    assert response.status_code == 200
    assert "Done: the address this link was sent to will no longer receive reminders" in (
        text_of(response)
    )
    assert unsubscribed(app)
    assert unsubscribed(app, email="  ana.quispe@EXAMPLE.org ")  # however it is written
    assert not unsubscribed(app, kind=MessageKind.ANNOUNCEMENT)
    assert not unsubscribed(app, email="other@example.org")
    assert client.post(link_path(app)).status_code == 200  # twice is fine


def test_one_click_from_a_mail_app_needs_no_form_token(app, client, smtp):
    with app.app_context():
        queue("r1")
        service.dispatch_due(NOW)
    [received] = smtp.messages
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = received["List-Unsubscribe"].strip("<>")
    response = client.post(
        urlsplit(url).path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert unsubscribed(app)


def decoded_parts(token: str) -> list[bytes]:
    """Every dot-separated part of a token, base64url-decoded (and inflated when itsdangerous
    compressed it), as an attacker holding the link would read it."""
    parts = []
    for part in token.split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        parts.append(raw)
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompress(raw))
    return parts


def test_the_link_in_the_mail_does_not_carry_the_address(app, smtp):
    with app.app_context():
        queue("r1")
        service.dispatch_due(NOW)
    [received] = smtp.messages
    token = urlsplit(received["List-Unsubscribe"].strip("<>")).path.rsplit("/", 1)[1]
    readable = b"\n".join([token.encode(), *decoded_parts(token)]).lower()
    assert len(decoded_parts(token)) >= 3  # payload, timestamp, signature were all looked at
    for fragment in (b"ana.quispe@example.org", b"quispe", b"example.org", b"ana.q"):
        assert fragment not in readable


def test_unsubscriptions_keep_no_address(app, client):
    client.post(link_path(app))
    client.post(link_path(app, kind=MessageKind.ANNOUNCEMENT))
    with app.app_context():
        rows = db.session.execute(sa.select(sa.text("*")).select_from(sa.table("unsubscriptions")))
        stored = " ".join(str(value) for row in rows for value in row).lower()
    assert stored.count(service_hash(app)) == 2
    assert "quispe" not in stored and "example" not in stored


def service_hash(app, email=ADDRESS) -> str:
    with app.app_context():
        return service.address_hash(email)


def test_the_hash_is_keyed_with_the_apps_secret(app):
    with app.app_context():
        first = service.address_hash(ADDRESS)
        app.config["SECRET_KEY"] = "another-secret"
        assert service.address_hash(ADDRESS) != first
    import hashlib

    assert first != hashlib.sha256(b"ana.quispe@example.org").hexdigest()


@pytest.mark.parametrize("kind", sorted(UNSUBSCRIBABLE_KINDS))
def test_messages_queued_before_unsubscribing_are_not_sent(app, client, smtp, kind):
    with app.app_context():
        queue("r1", kind=kind)
        queue("other-kind", kind=MessageKind.CONFIRMATION)  # not what they stopped
    client.post(link_path(app, kind=kind))
    with app.app_context():
        result = service.dispatch_due(NOW)
        assert (result.sent, result.unsubscribed) == (1, 1)
        assert status_of("r1") == (MessageStatus.FAILED, "unsubscribed")
    assert [message["Subject"] for message in smtp.messages] == ["A message for Ana"]
    assert "List-Unsubscribe" not in smtp.messages[0]  # the confirmation went


def test_retry_failed_from_the_command_line_sends_nothing_to_who_unsubscribed(
    app, client, smtp, runner
):
    past = datetime.now(UTC) - timedelta(minutes=1)
    smtp.replies = ["550 5.2.2 mailbox full", "550 5.2.2 mailbox full"]
    with app.app_context():
        queue("failed-before", kind=MessageKind.ANNOUNCEMENT, now=past)
        queue(
            "to-rosa", kind=MessageKind.ANNOUNCEMENT, to="rosa@example.org", name="Rosa", now=past
        )
        assert service.dispatch_due(past).failed == 2
        queue("pending-when-unsubscribing", now=past)
    client.post(link_path(app))
    client.post(link_path(app, kind=MessageKind.ANNOUNCEMENT))
    with app.app_context():
        queue("queued-after", now=past)  # refused outright
        assert (
            db.session.scalar(
                select(OutboxMessage).where(OutboxMessage.dedupe_key == "queued-after")
            )
            is None
        )

    assert "2 message(s) queued again" in runner.invoke(args=["mail", "retry-failed"]).output
    output = runner.invoke(args=["mail", "send-due"]).output
    assert "sent 1," in output and "not sent (unsubscribed) 2" in output
    assert "0 message(s) queued again" in runner.invoke(args=["mail", "retry-failed"]).output
    assert "sent 0," in runner.invoke(args=["mail", "send-due"]).output

    assert [str(m["To"]) for m in smtp.messages] == ["Rosa <rosa@example.org>"]
    with app.app_context():
        for key in ("failed-before", "pending-when-unsubscribing"):
            assert status_of(key) == (MessageStatus.FAILED, "unsubscribed")


def test_forged_or_altered_links_are_not_found(app, client):
    path = link_path(app)
    # A changed character inside the signature (the last one carries only 2 of its 6 bits).
    signed, _, signature = path.rpartition(".")
    altered = signature[0] + ("B" if signature[1] == "A" else "A") + signature[2:]
    assert client.get(f"{signed}.{altered}").status_code == 404
    assert client.post("/unsubscribe/not-a-token").status_code == 404
    with app.app_context():  # a well-signed link over an address rather than a hash
        from service.security import sign_link

        old_style = sign_link(unsubscribe.UNSUBSCRIBE_PURPOSE, ["ana@example.org", "reminder"])
    assert client.post(f"/unsubscribe/{old_style}").status_code == 404
    assert not unsubscribed(app)


def test_confirm_page_in_spanish(app, client):
    page = client.get(link_path(app), headers={"Accept-Language": "es"})
    assert "¿Dejar de enviar los recordatorios" in text_of(page)
    assert "Darse de baja" in text_of(page)

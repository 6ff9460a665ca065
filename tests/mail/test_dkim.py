"""DKIM: mail that arrives signed, checked as a receiving server checks it (dkimpy's verify,
with DNS answered by the record ``flask mail dkim-keygen`` printed)."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dkim
import dkim.util
import pytest
from sqlalchemy import select

from service import create_app
from service.config import ConfigError
from service.extensions import db
from service.mail import service, signing
from service.mail.models import MessageKind, MessageStatus, OutboxMessage
from tests.conftest import base_config, close_database
from tests.mail.fixtures import smtp_config
from tests.registration.fixtures import submit_registration

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
DOMAIN = "friendsofbolivia.example"
SELECTOR = "2027"


@pytest.fixture(scope="module")
def key_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dkim") / f"{SELECTOR}.private.pem"
    signing.write_key_pair(path)
    return path


@pytest.fixture
def app_config(smtp, key_path):
    return {
        **smtp_config(smtp),
        "RATELIMIT_ENABLED": False,
        "DKIM_DOMAIN": DOMAIN,
        "DKIM_SELECTOR": int(SELECTOR),  # as CONVOCA_DKIM_SELECTOR=2027 arrives: JSON, a number
        "DKIM_PRIVATE_KEY_PATH": str(key_path),
    }


def published_dns(record: signing.DNSRecord):
    """A resolver that knows one TXT record, as dkimpy calls it."""

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return record.value.encode() if name.decode().rstrip(".") == record.name else None

    return dnsfunc


@pytest.fixture
def dns(key_path):
    return published_dns(signing.dns_record(key_path.read_bytes(), SELECTOR, DOMAIN))


def queue(key: str = "dkim:1", *, language: str = "en", name: str = "Ana", **extra) -> None:
    service.queue_message(
        kind=extra.pop("kind", MessageKind.ANNOUNCEMENT),
        dedupe_key=key,
        to="ana@example.org",
        name=name,
        language=language,
        template="mail/test_message",
        params={"body": extra.pop("body", "The meeting is on.")},
        now=NOW,
        **extra,
    )
    db.session.commit()


def signature_tags(raw: bytes) -> dict[bytes, bytes]:
    match = re.match(rb"DKIM-Signature: (.*?)\r\n(?=\S)", raw, re.DOTALL)
    assert match, "the message does not begin with a DKIM-Signature header"
    return dkim.util.parse_tag_value(match.group(1))


def has_bare_line_feed(raw: bytes) -> bool:
    return re.search(rb"(?<!\r)\n", raw) is not None


def test_a_spanish_announcement_arrives_signed_and_verifies(app_context, smtp, dns):
    queue(language="es", name="José Ñandú")
    assert service.dispatch_due(NOW).sent == 1

    [raw] = smtp.raw
    [received] = smtp.messages
    assert received["Subject"] == "Un mensaje para José Ñandú"
    assert b"Subject: =?utf-8?" in raw  # RFC 2047 on the wire, as signed
    assert not has_bare_line_feed(raw)
    assert dkim.verify(raw, dnsfunc=dns)

    tags = signature_tags(raw)
    assert tags[b"d"] == DOMAIN.encode() and tags[b"s"] == SELECTOR.encode()
    assert tags[b"c"] == b"relaxed/relaxed"
    signed = re.sub(rb"\s", b"", tags[b"h"]).lower().split(b":")
    for header in (
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"reply-to",
        b"mime-version",
        b"content-type",
        b"list-unsubscribe",
        b"list-unsubscribe-post",
    ):
        assert signed.count(header) == 2, header  # once more than present: none can be added
    assert "List-Unsubscribe-Post" in received


def test_a_spanish_registration_confirmation_with_its_calendar_file_and_qr_code_verifies(
    app, client, smtp, dns, make_event
):
    starts = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)
    make_event(
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
        format="hybrid",
        venue="Bolivar Hall",
    )
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert submit_registration(client, name="Begoña Quispe", mode="in_person").status_code == 302
    with app.app_context():
        assert service.dispatch_due(datetime.now(UTC)).sent == 1

    [raw] = smtp.raw
    [received] = smtp.messages
    assert received["Subject"] == "Inscripción confirmada: Reunión de solidaridad"
    [calendar] = list(received.iter_attachments())
    assert calendar.get_content_type() == "text/calendar"
    assert "BEGIN:VCALENDAR" in calendar.get_content()
    assert [part.get_content_type() for part in received.walk() if part["Content-ID"]] == [
        "image/png"
    ]
    assert dkim.verify(raw, dnsfunc=dns)


def test_the_file_transports_eml_is_signed_with_crlf_line_ends(app, app_context, tmp_path, dns):
    app.config.update(MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path / "outbox"))
    queue(language="es", name="José")
    assert service.dispatch_due(NOW).sent == 1
    [written] = (tmp_path / "outbox").glob("*.eml")
    raw = written.read_bytes()
    assert raw.startswith(b"DKIM-Signature: ")
    assert not has_bare_line_feed(raw)
    assert dkim.verify(raw, dnsfunc=dns)


TAMPERINGS = {
    "a changed recipient": lambda raw: raw.replace(b"<ana@example.org>", b"<eve@example.org>"),
    "a changed body": lambda raw: re.sub(rb"(\r\n\r\n[A-Za-z0-9+/]{4})", rb"\1QUJD", raw, count=1),
    "an added From header": lambda raw: raw.replace(
        b"\r\nFrom: ", b"\r\nFrom: Bank <x@bank.example>\r\nFrom: ", 1
    ),
    "a removed List-Unsubscribe-Post": lambda raw: raw.replace(
        b"\r\nList-Unsubscribe-Post: ", b"\r\nX-Gone: ", 1
    ),
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_a_tampered_message_fails_verification(app_context, smtp, dns, tamper):
    queue()
    service.dispatch_due(NOW)
    [raw] = smtp.raw
    assert dkim.verify(raw, dnsfunc=dns)
    tampered = tamper(raw)
    assert tampered != raw
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_another_key_in_dns_fails_verification(app_context, smtp, tmp_path):
    queue()
    service.dispatch_due(NOW)
    other = tmp_path / "other.pem"
    signing.write_key_pair(other)
    impostor = published_dns(signing.dns_record(other.read_bytes(), SELECTOR, DOMAIN))
    assert not dkim.verify(smtp.raw[0], dnsfunc=impostor)


def test_without_a_dkim_domain_mail_goes_unsigned(app, app_context, smtp):
    app.config["DKIM_DOMAIN"] = ""
    queue()
    assert service.dispatch_due(NOW).sent == 1
    assert b"DKIM-Signature" not in smtp.raw[0]
    assert not has_bare_line_feed(smtp.raw[0])


def test_an_unreadable_key_stops_dispatch_and_leaves_the_mail_queued(app, app_context, smtp):
    app.config["DKIM_PRIVATE_KEY_PATH"] = "/nonexistent/dkim.pem"
    queue()
    with pytest.raises(ConfigError, match=r"DKIM_PRIVATE_KEY_PATH=/nonexistent/dkim\.pem"):
        service.dispatch_due(NOW)
    assert smtp.raw == []
    db.session.expire_all()
    queued = db.session.scalar(select(OutboxMessage))
    assert (queued.status, queued.attempts) == (MessageStatus.PENDING, 0)


def test_half_a_dkim_configuration_refuses_to_start(migrated_database):
    with pytest.raises(ConfigError, match="DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH"):
        create_app(base_config(migrated_database.url, DKIM_DOMAIN=DOMAIN))


def test_keygen_writes_a_private_key_and_prints_the_record_that_verifies_our_mail(
    app, runner, smtp, tmp_path
):
    output = tmp_path / "keys" / "2031.private.pem"
    result = runner.invoke(
        args=["mail", "dkim-keygen", "--selector", "2031", "--domain", DOMAIN, "--output", output]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert output.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    name = re.search(r"name:  (\S+)", result.output).group(1)
    value = re.search(r"value: (v=DKIM1; k=rsa; p=\S+)", result.output).group(1)
    assert name == f"2031._domainkey.{DOMAIN}"
    # The zone file line splits the value into strings of at most 255 characters.
    strings = re.findall(r'"([^"]*)"', result.output)
    assert "".join(strings) == value and max(map(len, strings)) <= 255 < len(value)

    app.config.update(DKIM_SELECTOR="2031", DKIM_PRIVATE_KEY_PATH=str(output))
    with app.app_context():
        queue()
        service.dispatch_due(NOW)
    assert dkim.verify(smtp.raw[0], dnsfunc=published_dns(signing.DNSRecord(name, value)))
    # 2048 bits: dkimpy reports the size of the key it checked against.
    verifier = dkim.DKIM(smtp.raw[0])
    assert verifier.verify(dnsfunc=published_dns(signing.DNSRecord(name, value)))
    assert verifier.keysize == 2048


def test_keygen_never_replaces_a_key(app, runner, tmp_path):
    output = tmp_path / "2031.private.pem"
    output.write_bytes(b"the key in use")
    result = runner.invoke(
        args=["mail", "dkim-keygen", "--selector", "2031", "--output", str(output)]
    )
    assert result.exit_code != 0
    assert "exists" in result.output
    assert output.read_bytes() == b"the key in use"


def test_keygen_writes_to_the_instance_folder_by_default(migrated_database, monkeypatch, tmp_path):
    monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path))
    app = create_app(base_config(migrated_database.url, DKIM_DOMAIN=DOMAIN, DKIM_SELECTOR="k1",
                                 DKIM_PRIVATE_KEY_PATH="/unused"))  # fmt: skip
    result = app.test_cli_runner().invoke(args=["mail", "dkim-keygen"])
    close_database(app)
    assert result.exit_code == 0, result.output
    written = tmp_path / "dkim" / "k1.private.pem"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert f"k1._domainkey.{DOMAIN}" in result.output

"""The outbox and its dispatcher against a real SMTP server on loopback."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail import dispatch, service
from service.mail.models import MessageKind, MessageStatus, OutboxMessage
from service.mail.service import Attachment

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
# How far the dispatcher's clock may move on while a test's pass runs.
CLOCK_SLACK = timedelta(seconds=5)


def queue(
    key: str = "test:1",
    *,
    to: str = "ana@example.org",
    name: str = "Ana",
    kind: MessageKind = MessageKind.ANNOUNCEMENT,
    now: datetime = NOW,
    **extra,
) -> bool:
    added = service.queue_message(
        kind=kind,
        dedupe_key=key,
        to=to,
        name=name,
        language=extra.pop("language", "en"),
        template="mail/test_message",
        params={"body": extra.pop("body", "The meeting is on.")},
        now=now,
        **extra,
    )
    db.session.commit()
    return added


def message(key: str = "test:1") -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


def test_a_queued_message_arrives_as_multipart_with_the_right_headers(app_context, smtp):
    calendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"
    assert queue(attachments=[Attachment("meeting.ics", "text/calendar; method=PUBLISH", calendar)])
    result = service.dispatch_due(NOW)
    assert (result.sent, result.failed, result.retrying) == (1, 0, 0)

    [received] = smtp.messages
    assert received["To"] == "Ana <ana@example.org>"
    assert received["From"] == "Friends of Bolivia <events@friendsofbolivia.example>"
    assert received["Reply-To"] == "organisers@friendsofbolivia.example"
    assert received["Subject"] == "A message for Ana"
    assert received["Message-ID"] == message().message_id
    assert received["Date"]
    assert received["List-Unsubscribe"].startswith("<https://events.example.org/unsubscribe/")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire as a plain <URL> on one line, as mail providers' one-click unsubscribe reads it.
    assert re.search(
        rb"\r\nList-Unsubscribe: <https://events\.example\.org/unsubscribe/\S+>\r\n", smtp.raw[0]
    )
    assert received.get_content_type() == "multipart/mixed"
    assert "The meeting is on." in received.get_body(("plain",)).get_content()
    assert "<p>The meeting is on.</p>" in received.get_body(("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "meeting.ics"
    assert "METHOD:PUBLISH" in attachment.get_content()

    sent = message()
    assert sent.status == MessageStatus.SENT
    assert NOW <= sent.sent_at < NOW + timedelta(seconds=5)  # the app's clock, moved on
    assert sent.attempts == 1


def test_the_same_dedupe_key_is_queued_once(app_context, smtp):
    assert queue("once") is True
    assert queue("once", body="changed") is False
    service.dispatch_due(NOW)
    service.dispatch_due(NOW + timedelta(hours=1))
    assert len(smtp.messages) == 1
    assert db.session.query(OutboxMessage).count() == 1


def test_confirmations_carry_no_unsubscribe_header(app_context, smtp):
    queue(kind=MessageKind.CONFIRMATION)
    service.dispatch_due(NOW)
    [received] = smtp.messages
    assert "List-Unsubscribe" not in received


def test_nothing_is_sent_before_it_is_due(app_context, smtp):
    queue(now=NOW + timedelta(minutes=5))
    assert service.dispatch_due(NOW).attempted == 0
    assert smtp.messages == []
    assert service.dispatch_due(NOW + timedelta(minutes=5)).sent == 1


@pytest.mark.parametrize(
    "name", ["Eve\r\nBcc: victim@example.org", "Eve\nSubject: spam", "Eve\x00"]
)
def test_a_name_with_line_breaks_injects_no_header(app_context, smtp, name):
    queue(name=name)
    service.dispatch_due(NOW)
    [received] = smtp.messages
    assert "Bcc" not in received
    assert received["Subject"].startswith("A message for Eve")
    assert "\n" not in received["Subject"] and "\r" not in received["Subject"]
    assert received["To"].addresses[0].addr_spec == "ana@example.org"
    assert len(received.get_all("Subject")) == 1


def test_temporary_failures_retry_with_backoff_and_send_once(app_context, smtp):
    smtp.replies = ["451 4.3.0 try again later", "451 4.3.0 still busy"]
    queue()
    first = service.dispatch_due(NOW)
    assert (first.sent, first.retrying) == (0, 1)
    failed_once = message()
    assert failed_once.status == MessageStatus.PENDING
    assert failed_once.last_error == "451 4.3.0 try again later"
    first_retry_at, message_id = failed_once.next_attempt_at, failed_once.message_id
    # 30 s ± 20 %, counted from the dispatcher's own clock, which moves on while it sends.
    assert timedelta(seconds=24) <= first_retry_at - NOW <= timedelta(seconds=36) + CLOCK_SLACK

    assert service.dispatch_due(NOW + timedelta(seconds=10)).attempted == 0  # not yet due
    second = service.dispatch_due(first_retry_at)
    assert second.retrying == 1
    second_retry_at = message().next_attempt_at
    assert (
        timedelta(seconds=48)
        <= second_retry_at - first_retry_at
        <= timedelta(seconds=72) + CLOCK_SLACK
    )

    third = service.dispatch_due(second_retry_at)
    assert third.sent == 1
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Message-ID"] == message_id
    assert message().attempts == 3


def test_permanent_failure_is_kept_with_the_reply(app_context, smtp):
    smtp.replies = ["550 5.1.1 mailbox unavailable"]
    queue()
    result = service.dispatch_due(NOW)
    assert result.failed == 1
    failed = message()
    assert failed.status == MessageStatus.FAILED
    assert failed.last_error == "550 5.1.1 mailbox unavailable"
    assert service.dispatch_due(NOW + timedelta(days=1)).attempted == 0
    assert service.retry_failed(NOW + timedelta(days=1)) == 1
    assert service.dispatch_due(NOW + timedelta(days=1)).sent == 1
    assert len(smtp.messages) == 1


def test_gives_up_after_the_last_attempt(app, app_context, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    smtp.replies = ["451 4.3.0 busy"] * 5
    queue()
    service.dispatch_due(NOW)
    service.dispatch_due(NOW + timedelta(minutes=15))
    failed = message()
    assert failed.status == MessageStatus.FAILED
    assert failed.attempts == 2


def test_backoff_is_capped_at_fifteen_minutes():
    for attempts in range(1, 30):
        assert dispatch.backoff(attempts) <= timedelta(minutes=15)
    assert dispatch.backoff(12) >= timedelta(minutes=12)  # the cap minus jitter


def test_relay_down_keeps_everything_for_later(app, app_context, smtp):
    app.config["MAIL_PORT"] = smtp.port + 1 if smtp.port < 65535 else smtp.port - 1
    for number in range(3):
        queue(f"down:{number}", to=f"person{number}@example.org")
    result = service.dispatch_due(NOW)
    assert (result.sent, result.retrying, result.failed) == (0, 3, 0)
    assert all("cannot reach" in message(f"down:{n}").last_error for n in range(3))
    app.config["MAIL_PORT"] = smtp.port
    assert service.dispatch_due(NOW + timedelta(minutes=16)).sent == 3


def test_a_dead_dispatchers_lease_expires_and_the_message_goes_again(app_context, smtp):
    queue()
    _token, claimed = dispatch.claim_due(NOW, 10, timedelta(minutes=2))  # then it "dies"
    assert [m.dedupe_key for m in claimed] == ["test:1"]
    assert service.dispatch_due(NOW + timedelta(minutes=1)).attempted == 0  # lease still held
    assert service.dispatch_due(NOW + timedelta(minutes=2)).sent == 1
    [received] = smtp.messages
    assert received["Message-ID"] == claimed[0].message_id


def test_a_dispatcher_told_to_stop_sends_the_message_in_flight_and_releases_the_rest(
    app_context, smtp, monkeypatch
):
    for n in range(3):
        queue(f"stop:{n}", to=f"p{n}@example.org")
    stopping = threading.Event()
    receive = smtp.handle_DATA

    async def stop_while_receiving(*args):
        stopping.set()  # SIGTERM arrives while the relay takes the first message
        return await receive(*args)

    monkeypatch.setattr(smtp, "handle_DATA", stop_while_receiving)
    result = service.dispatch_due(NOW, stopping=stopping)

    assert result.sent == 1
    assert [str(m["To"]) for m in smtp.messages] == ["Ana <p0@example.org>"]
    assert message("stop:0").status == MessageStatus.SENT
    for key in ("stop:1", "stop:2"):
        released = message(key)
        assert (released.status, released.lease_token, released.attempts) == (
            MessageStatus.PENDING,
            None,
            0,
        )
    assert service.dispatch_due(NOW, stopping=stopping).attempted == 0  # claims nothing more
    assert service.dispatch_due(NOW + timedelta(minutes=1)).sent == 2
    assert len(smtp.messages) == 3


def test_mail_status_counts_and_failures(app_context, smtp, runner):
    smtp.replies = ["550 5.7.1 rejected"]
    queue("a", to="a@example.org")
    queue("b", to="b@example.org")
    service.dispatch_due(NOW)
    status = service.mail_status()
    assert status.counts == {("failed", "announcement"): 1, ("sent", "announcement"): 1}
    assert status.recent_failures[0].last_error == "550 5.7.1 rejected"


def test_cli_commands(runner, smtp, app):
    with app.app_context():
        queue("cli", now=datetime.now(UTC) - timedelta(seconds=1))
    result = runner.invoke(args=["mail", "send-due"])
    assert "sent 1" in result.output
    result = runner.invoke(args=["mail", "status"])
    assert "sent     announcement       1" in result.output
    result = runner.invoke(args=["mail", "retry-failed"])
    assert "0 message(s) queued again" in result.output


def test_file_backend_writes_eml(app, app_context, tmp_path):
    app.config.update(MAIL_BACKEND="", MAIL_SERVER="", MAIL_FILE_DIR=str(tmp_path / "outbox"))
    queue()
    assert service.dispatch_due(NOW).sent == 1
    [written] = (tmp_path / "outbox").glob("*.eml")
    assert b"Subject: A message for Ana" in written.read_bytes()

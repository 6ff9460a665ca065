"""Queue messages in the caller's transaction; dispatch what is due; unsubscribe.

Delivery promise: no message is lost, and each is sent at most once, except when a dispatcher
dies between the relay accepting a message and our commit. Then the message goes again once
its lease expires, with the same Message-ID, so mail clients show it once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import ColumnElement, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.db import begin_writing, conflict_insert
from service.extensions import db
from service.identity import normalise_email
from service.mail import compose
from service.mail.models import (
    UNSUBSCRIBABLE_KINDS,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Unsubscription,
)
from service.mail.transport import (
    DeliveryError,
    PermanentFailure,
    RelayUnavailable,
    Transport,
    eml_name,
    file_directory,
    make_transport,
)
from service.security import read_link, sign_link
from service.urls import absolute_url

log = logging.getLogger(__name__)
_OUTBOX = OutboxMessage.__table__

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=15)
LEASE_CAP = timedelta(minutes=2)
UNSUBSCRIBE_PURPOSE = "unsubscribe"
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600  # a link in an old reminder still works for a year
UNSUBSCRIBED = "unsubscribed"  # last_error of a message stopped because its recipient asked


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=PUBLISH"
    content: str


@dataclass(frozen=True)
class MessageContent:
    """What a message's templates need, rebuilt from its params just before it is sent."""

    context: dict[str, Any]
    attachments: list[Attachment] = field(default_factory=list)


# (params, memo) -> content. The memo lives for one batch, so messages about the same event
# share the work of loading and formatting it.
Builder = Callable[[dict[str, Any], dict[Any, Any]], MessageContent]
_BUILDERS: dict[str, Builder] = {}


def message_builder(*templates: str) -> Callable[[Builder], Builder]:
    """Register the function that turns a message's params into its templates' context."""

    def register(builder: Builder) -> Builder:
        for template in templates:
            _BUILDERS[template] = builder
        return builder

    return register


def queue_message(**fields: Any) -> bool:
    """Add a message to the outbox, in the caller's transaction (no commit); ``fields`` are
    ``outbox_row``'s.

    Nothing is rendered here, so a web request pays for one INSERT: the dispatcher renders
    ``templates/email/<template>.{txt,html}`` in ``language`` just before sending, from
    ``params`` (JSON: ids and short texts) through the template's registered builder, or with
    ``params`` as the context when it has none. A ``dedupe_key`` seen before is a no-op; so is
    a kind the recipient unsubscribed from. Returns whether a row was added.
    """
    row = outbox_row(**fields)
    if row["kind"] in UNSUBSCRIBABLE_KINDS and is_unsubscribed(row["recipient"], row["kind"]):
        return False
    return queue_rows([row]) == 1


def outbox_row(
    *,
    kind: MessageKind,
    dedupe_key: str,
    to: str,
    name: str,
    language: str,
    template: str,
    params: dict[str, Any],
    now: datetime,
    attachments: Iterable[Attachment] = (),
) -> dict[str, Any]:
    """An outbox row's values, for ``queue_message`` or, many at once, ``queue_rows``."""
    return {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "recipient": to.strip(),
        "recipient_name": compose.single_line(name),
        "language": language,
        "template": template,
        "params": params,
        "reply_to": current_app.config["ORGANISER_EMAIL"],
        "attachments": [attachment.__dict__ for attachment in attachments],
        "message_id": make_msgid(domain=compose.sender_domain()),
        "status": MessageStatus.PENDING,
        "next_attempt_at": now,
        "created_at": now,
    }


def queue_rows(rows: list[dict[str, Any]]) -> int:
    """Add many messages in one statement (the caller checked unsubscriptions); rows whose
    dedupe key is queued already are skipped. Returns how many were added."""
    if not rows:
        return 0
    statement = _QUEUE_ROWS["postgresql" if _dialect() == "postgresql" else "sqlite"]
    # Many rows go as one multi-row INSERT (SQLAlchemy's "insertmanyvalues"), and one
    # statement compiled once serves every call: a registration pays for one execution.
    return len(db.session.connection().execute(statement, rows).all())


_QUEUE_ROWS = {
    name: insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_OUTBOX.c.id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def last_queued(dedupe_key_prefix: str) -> datetime | None:
    """When the latest message whose dedupe key starts so was queued, if any was."""
    return db.session.scalar(
        select(func.max(OutboxMessage.created_at)).where(
            OutboxMessage.dedupe_key.startswith(dedupe_key_prefix, autoescape=True)
        )
    )


def render_message(message: OutboxMessage, memo: dict[Any, Any]) -> None:
    """Fill in the message's subject, bodies and attachments, in the recipient's language."""
    if not message.template:  # queued before messages were rendered when sent
        return
    builder = _BUILDERS.get(message.template)
    unsubscribe_url = (
        unsubscribe_link(message.recipient, message.kind)
        if message.kind in UNSUBSCRIBABLE_KINDS
        else ""
    )
    with force_locale(message.language):
        content = builder(message.params, memo) if builder else MessageContent(message.params)
        subject, body_text, body_html = render_email(
            message.template,
            {
                **content.context,
                "recipient_name": message.recipient_name,
                "unsubscribe_url": unsubscribe_url,
            },
        )
    message.subject, message.body_text, message.body_html = subject, body_text, body_html
    message.unsubscribe_url = unsubscribe_url
    message.attachments = [
        *message.attachments,
        *(attachment.__dict__ for attachment in content.attachments),
    ]


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text body and HTML body; the text template sets ``subject`` at top level,
    and the HTML one gets it as ``subject_line`` (its ``<title>``)."""
    context = dict(context)
    current_app.update_template_context(context)
    environment = current_app.jinja_env
    text = environment.get_template(f"email/{template}.txt").make_module(context)
    subject = compose.single_line(text.subject)
    html = environment.get_template(f"email/{template}.html").render(
        {**context, "subject_line": subject}
    )
    return subject, str(text).strip() + "\n", html


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unsubscribed: int = 0  # stopped before sending: the recipient asked for no more
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


def dispatch_due(
    now: datetime, *, batch_size: int | None = None, stopping: threading.Event | None = None
) -> DispatchResult:
    """Claim due messages in batches and send them until none is due (one pass).

    Once ``stopping`` is set (the scheduler was told to stop) the pass claims nothing more:
    the message being sent finishes, and the rest of its batch is released, due at once, for
    the next dispatcher to take.
    """
    stopping = stopping or threading.Event()
    config = current_app.config
    batch_size = batch_size or int(config["MAIL_BATCH_SIZE"])
    lease = min(timedelta(seconds=int(config["MAIL_LEASE_SECONDS"])), LEASE_CAP)
    result = DispatchResult()
    started = time.monotonic()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with make_transport(app) as transport:  # one relay connection for the whole pass
        while not stopping.is_set():
            # Our clock moves on while we send; the lease is judged by it, never the database's.
            current = now + timedelta(seconds=time.monotonic() - started)
            token, messages = claim_due(current, batch_size, lease)
            if not messages:
                return result
            _send_batch(transport, messages, token, current, started, now, result, stopping)
            if len(messages) < batch_size:
                return result
    return result


def claim_due(now: datetime, limit: int, lease: timedelta) -> tuple[str, list[OutboxMessage]]:
    """Mark up to ``limit`` due messages as ours (``sending`` under a lease) and commit.

    Due: pending with its time come, or ``sending`` under a lease that expired (its dispatcher
    died). On PostgreSQL concurrent dispatchers skip each other's rows (SKIP LOCKED); SQLite
    runs the single UPDATE atomically under its write lock.
    """
    token = secrets.token_hex(16)
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(
                    OutboxMessage.status == MessageStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                ),
                and_(
                    OutboxMessage.status == MessageStatus.SENDING,
                    OutboxMessage.lease_expires_at <= now,
                ),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status=MessageStatus.SENDING,
            lease_token=token,
            lease_expires_at=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.lease_token == token)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        )
    )
    # Detached, so that the read transaction can end now: on SQLite a transaction that read
    # first cannot take the write lock later if another process wrote in between.
    for message in messages:
        db.session.expunge(message)
    db.session.rollback()
    return token, messages


def _send_batch(
    transport: Transport,
    messages: list[OutboxMessage],
    token: str,
    current: datetime,
    started: float,
    now: datetime,
    result: DispatchResult,
    stopping: threading.Event,
) -> None:
    max_attempts = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    messages = _render_batch(messages, token, current, max_attempts, result)
    for index, message in enumerate(messages):
        current = now + timedelta(seconds=time.monotonic() - started)
        if stopping.is_set():
            _release(messages[index:], token, "dispatcher stopped before sending", current)
            return
        if message.lease_expires_at and current >= message.lease_expires_at:
            _release(messages[index:], token, "lease expired before sending", current)
            return
        try:
            transport.send(compose.outgoing_message(message))
        except ValueError as error:  # an address the email package cannot write
            failure = PermanentFailure(f"cannot address the message: {error}")
            _record_failure(message, token, failure, current, max_attempts, result)
            continue
        except RelayUnavailable as error:
            for unsent in messages[index:]:
                _record_failure(unsent, token, error, current, max_attempts, result)
            return
        except DeliveryError as error:
            _record_failure(message, token, error, current, max_attempts, result)
            continue
        _record_sent(message, token, current)
        result.sent += 1


def _render_batch(
    messages: list[OutboxMessage],
    token: str,
    now: datetime,
    max_attempts: int,
    result: DispatchResult,
) -> list[OutboxMessage]:
    """Render every message of the batch (sharing what they share); returns those rendered.

    A message whose recipient unsubscribed from its kind fails as ``unsubscribed``, unsent,
    however it came to be due (queued before, retried, queued by a path that did not look).
    A message that cannot be rendered (its registration was deleted, a template is broken)
    fails with the reason, without holding up the others.
    """
    memo: dict[Any, Any] = {}
    rendered, broken, stopped = [], [], []
    unsubscribed = _unsubscribed_recipients(messages)
    for message in messages:
        if (message.recipient, message.kind) in unsubscribed:
            stopped.append(message)
            continue
        try:
            render_message(message, memo)
            rendered.append(message)
        except Exception as error:
            log.exception("cannot render message %s", message.id)
            broken.append((message, PermanentFailure(f"cannot render the message: {error!r}")))
    db.session.rollback()  # end the reads before writing (SQLite takes the write lock then)
    for message, failure in broken:
        _record_failure(message, token, failure, now, max_attempts, result)
    if stopped:
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([message.id for message in stopped]),
                OutboxMessage.lease_token == token,
            )
            .values(
                status=MessageStatus.FAILED,
                last_error=UNSUBSCRIBED,
                lease_token=None,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        result.unsubscribed += len(stopped)
    return rendered


def _unsubscribed_recipients(messages: list[OutboxMessage]) -> set[tuple[str, MessageKind]]:
    """(recipient, kind) of the batch's messages whose recipient unsubscribed from the kind."""
    stopped = set()
    for kind in UNSUBSCRIBABLE_KINDS:
        recipients = {message.recipient for message in messages if message.kind == kind}
        if recipients:
            stopped.update((address, kind) for address in unsubscribed_addresses(recipients, kind))
    return stopped


# One statement, built once: each sent message runs it with its own values and commits.
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("sent_id"), _OUTBOX.c.lease_token == bindparam("token"))
    .values(
        status=MessageStatus.SENT.value,
        sent_at=bindparam("sent_at"),
        lease_token=None,
        lease_expires_at=None,
        last_error="",
        subject=bindparam("subject"),
        body_text=bindparam("body_text"),
        body_html=bindparam("body_html"),
        unsubscribe_url=bindparam("unsubscribe_url"),
        attachments=bindparam("attachments", type_=_OUTBOX.c.attachments.type),
    )
)


def _record_sent(message: OutboxMessage, token: str, now: datetime) -> None:
    """Mark the message sent, keeping what was sent, in a commit of its own. A message whose
    row was deleted while it went (its signature withdrawn, its event's data removed) leaves
    no file copy behind either."""
    marked = db.session.connection().execute(
        _MARK_SENT,
        {
            "sent_id": message.id,
            "token": token,
            "sent_at": now,
            "subject": message.subject,
            "body_text": message.body_text,
            "body_html": message.body_html,
            "unsubscribe_url": message.unsubscribe_url,
            "attachments": message.attachments,
        },
    )
    gone = marked.rowcount == 0 and db.session.get(OutboxMessage, message.id) is None
    db.session.commit()
    if gone:
        remove_files([message.message_id])


def _record_failure(
    message: OutboxMessage,
    token: str,
    error: DeliveryError,
    now: datetime,
    max_attempts: int,
    result: DispatchResult,
) -> None:
    give_up = isinstance(error, PermanentFailure) or message.attempts >= max_attempts
    values: dict[str, Any] = {
        "lease_token": None,
        "lease_expires_at": None,
        "last_error": error.reply[:2000],
    }
    if give_up:
        values["status"] = MessageStatus.FAILED
        result.failed += 1
    else:
        values["status"] = MessageStatus.PENDING
        values["next_attempt_at"] = now + backoff(message.attempts)
        result.retrying += 1
    result.errors.append(f"{message.recipient}: {error.reply}")
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.lease_token == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _release(messages: list[OutboxMessage], token: str, reason: str, now: datetime) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([message.id for message in messages]),
            OutboxMessage.lease_token == token,
        )
        .values(
            status=MessageStatus.PENDING,
            lease_token=None,
            lease_expires_at=None,
            next_attempt_at=now,
            attempts=OutboxMessage.attempts - 1,
            last_error=reason,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """Exponential from 30 s, capped at 15 minutes, with ±20 % jitter so retries spread out."""
    delay = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    jittered = delay * random.uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not secrecy
    return min(jittered, BACKOFF_CAP)


def retry_failed(now: datetime) -> int:
    """Give every failed message a fresh set of attempts, due now, except those stopped
    because their recipient unsubscribed (and the dispatcher checks again before sending)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.FAILED, OutboxMessage.last_error != UNSUBSCRIBED
        )
        .values(status=MessageStatus.PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def delete_messages(*where: ColumnElement[bool]) -> int:
    """Delete the outbox rows matching ``where`` and the ``.eml`` files written of them, in
    the caller's transaction (which should hold the write lock). The files go before the
    commit: a rollback then leaves rows without their copies, never copies without rows."""
    message_ids = list(
        db.session.scalars(
            delete(OutboxMessage)
            .where(*where)
            .returning(OutboxMessage.message_id)
            .execution_options(synchronize_session=False)
        )
    )
    remove_files(message_ids)
    return len(message_ids)


def remove_files(message_ids: Iterable[str]) -> None:
    """Remove the file backend's copies of these messages, wherever the backend is now."""
    directory = file_directory(current_app._get_current_object())  # type: ignore[attr-defined]
    if directory.is_dir():
        for message_id in message_ids:
            (directory / eml_name(message_id)).unlink(missing_ok=True)


def remove_unlisted_files() -> int:
    """Remove ``.eml`` files whose message has no outbox row any more (deleted before their
    files were, or by a version that left them): the outbox is the list of what may be kept.
    Returns how many were removed."""
    directory = file_directory(current_app._get_current_object())  # type: ignore[attr-defined]
    if not directory.is_dir():
        return 0
    listed_at = time.time()  # a file written after the list was read may be a new row's
    listed = {eml_name(message_id) for message_id in db.session.scalars(_MESSAGE_IDS)}
    db.session.rollback()
    removed = 0
    for path in directory.glob("*.eml"):
        if path.name not in listed and path.stat().st_mtime < listed_at:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


_MESSAGE_IDS = select(OutboxMessage.message_id)


@dataclass(frozen=True)
class MailStatus:
    counts: dict[tuple[str, str], int]  # (status, kind) -> messages
    recent_failures: list[OutboxMessage]


def mail_status(limit: int = 10) -> MailStatus:
    rows = db.session.execute(
        select(OutboxMessage.status, OutboxMessage.kind, func.count()).group_by(
            OutboxMessage.status, OutboxMessage.kind
        )
    )
    counts = Counter({(str(status), str(kind)): total for status, kind, total in rows})
    failures = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.FAILED)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    return MailStatus(counts=dict(counts), recent_failures=failures)


def address_hash(address: str) -> str:
    """The keyed hash an address is known by in ``unsubscriptions`` and unsubscribe links:
    HMAC-SHA256 of the normalised address under ``SECRET_KEY``, in hex. Nobody without the key
    can read the address back or test a guess against it."""
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else key.encode()
    typed = normalise_email(address).encode("utf-8", "replace")  # whatever a form brought
    return hmac.new(key, typed, hashlib.sha256).hexdigest()


def unsubscribe_link(email: str, kind: MessageKind) -> str:
    """A signed link over the address's keyed hash and the kind: no address inside."""
    token = sign_link(UNSUBSCRIBE_PURPOSE, [address_hash(email), kind.value])
    return absolute_url("mail.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[str, MessageKind] | None:
    """The address hash and kind a link was made for, or None when it is forged or too old."""
    payload = read_link(UNSUBSCRIBE_PURPOSE, token, max_age=UNSUBSCRIBE_MAX_AGE)
    try:
        hashed, kind = payload  # type: ignore[misc]
        if not (isinstance(hashed, str) and _HEX_DIGEST.fullmatch(hashed)):
            return None
        return hashed, MessageKind(kind)
    except (TypeError, ValueError):
        return None


_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def unsubscribe(hashed_address: str, kind: MessageKind, now: datetime) -> None:
    """Stop ``kind`` mail to the address with this hash (``address_hash``). Idempotent.
    Messages already queued stop at the dispatcher, which looks here before each send."""
    if not _HEX_DIGEST.fullmatch(hashed_address):  # never an address stored by mistake
        raise ValueError("unsubscribe takes address_hash(address), not an address")
    begin_writing(db.session)
    db.session.execute(
        conflict_insert(db.session, Unsubscription)
        .values(address_hash=hashed_address, kind=kind, created_at=now)
        .on_conflict_do_nothing(index_elements=["address_hash", "kind"])
    )
    db.session.commit()


def is_unsubscribed(email: str, kind: MessageKind) -> bool:
    return bool(unsubscribed_addresses([email], kind))


def unsubscribed_addresses(addresses: Iterable[str], kind: MessageKind) -> set[str]:
    """Those of ``addresses`` that asked for no more ``kind`` mail."""
    by_hash: dict[str, list[str]] = {}
    for address in addresses:
        by_hash.setdefault(address_hash(address), []).append(address)
    hashes = list(by_hash)
    found: set[str] = set()
    for start in range(0, len(hashes), _IN_CHUNK):
        found.update(
            db.session.scalars(
                select(Unsubscription.address_hash).where(
                    Unsubscription.kind == kind,
                    Unsubscription.address_hash.in_(hashes[start : start + _IN_CHUNK]),
                )
            )
        )
    return {address for hashed in found for address in by_hash[hashed]}


_IN_CHUNK = 500  # values in one IN list: well under SQLite's and PostgreSQL's limits

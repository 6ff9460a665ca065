"""The dispatcher: claim due messages, render and send them, record each outcome.

Each claim and each message's outcome is its own unit of work, so a dispatcher that dies
mid-batch loses nothing (its rows come back when their lease expires) and sends nothing twice
that it had already recorded as sent. The one gap: between the relay accepting a message and
our commit. Then the message goes again, with the same Message-ID, so mail clients show it once.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update

from service.db import unit_of_work
from service.extensions import db
from service.mail import compose
from service.mail.models import UNSUBSCRIBABLE_KINDS, MessageKind, MessageStatus, OutboxMessage
from service.mail.render import render_message
from service.mail.transport import (
    DeliveryError,
    PermanentFailure,
    RelayUnavailable,
    Transport,
    eml_name,
    file_directory,
    make_transport,
)
from service.mail.unsubscribe import EVENT_SCOPED_KINDS, unsubscribed_addresses

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=15)
LEASE_CAP = timedelta(minutes=2)
UNSUBSCRIBED = "unsubscribed"  # last_error of a message stopped because its recipient asked


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
    """Mark up to ``limit`` due messages as ours (``sending`` under a lease), in a unit of
    work of its own, and return them detached.

    Due: pending with its time come, or ``sending`` under a lease that expired (its dispatcher
    died). On PostgreSQL concurrent dispatchers skip each other's rows (SKIP LOCKED); SQLite
    runs the single UPDATE under the write lock the unit begins with.
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
    with unit_of_work() as session:
        session.execute(
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
        if _unsubscribe_scope(message) in unsubscribed:
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
        _end_lease(stopped, token, status=MessageStatus.FAILED, last_error=UNSUBSCRIBED)
        result.unsubscribed += len(stopped)
    return rendered


def _unsubscribed_recipients(
    messages: list[OutboxMessage],
) -> set[tuple[str, MessageKind, int | None]]:
    """``_unsubscribe_scope`` of the batch's messages whose recipient unsubscribed."""
    stopped = set()
    for kind in UNSUBSCRIBABLE_KINDS:
        by_scope: dict[int | None, set[str]] = {}
        for message in messages:
            if message.kind == kind:
                _, _, event_id = _unsubscribe_scope(message)
                by_scope.setdefault(event_id, set()).add(message.recipient)
        for event_id, recipients in by_scope.items():
            found = unsubscribed_addresses(recipients, kind, event_id)
            stopped.update((address, kind, event_id) for address in found)
    return stopped


def _unsubscribe_scope(message: OutboxMessage) -> tuple[str, MessageKind, int | None]:
    """Recipient, kind and (for ``EVENT_SCOPED_KINDS``) event: what an unsubscription stops."""
    scoped = message.kind in EVENT_SCOPED_KINDS
    return message.recipient, message.kind, message.event_id if scoped else None


def _record_sent(message: OutboxMessage, token: str, now: datetime) -> None:
    """Mark the message sent, keeping what was sent, in a unit of work of its own. A message
    whose row was deleted while it went (its signature withdrawn, its event's data removed)
    leaves no file copy behind either."""
    with unit_of_work() as session:
        # Only while this dispatcher still holds the lease: one that lost it sends nothing twice.
        marked = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.lease_token == token)
            .values(
                status=MessageStatus.SENT,
                sent_at=now,
                lease_token=None,
                lease_expires_at=None,
                last_error="",
                subject=message.subject,
                body_text=message.body_text,
                body_html=message.body_html,
                unsubscribe_url=message.unsubscribe_url,
                attachments=message.attachments,
            )
            .execution_options(synchronize_session=False)
        )
        gone = marked.rowcount == 0 and session.get(OutboxMessage, message.id) is None
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
    values: dict[str, Any] = {"last_error": error.reply[:2000]}
    if give_up:
        values["status"] = MessageStatus.FAILED
        result.failed += 1
    else:
        values["status"] = MessageStatus.PENDING
        values["next_attempt_at"] = now + backoff(message.attempts)
        result.retrying += 1
    result.errors.append(f"{message.recipient}: {error.reply}")
    _end_lease([message], token, **values)


def _release(messages: list[OutboxMessage], token: str, reason: str, now: datetime) -> None:
    _end_lease(
        messages,
        token,
        status=MessageStatus.PENDING,
        next_attempt_at=now,
        attempts=OutboxMessage.attempts - 1,
        last_error=reason,
    )


def _end_lease(messages: list[OutboxMessage], token: str, **values: Any) -> None:
    """Set ``values`` on the messages this dispatcher still holds under ``token`` and give up
    its lease on them, in a unit of work of its own (a row another dispatcher has reclaimed
    since, after the lease ran out, is left alone)."""
    with unit_of_work() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([message.id for message in messages]),
                OutboxMessage.lease_token == token,
            )
            .values(lease_token=None, lease_expires_at=None, **values)
            .execution_options(synchronize_session=False)
        )


def backoff(attempts: int) -> timedelta:
    """Exponential from 30 s, capped at 15 minutes, with ±20 % jitter so retries spread out."""
    delay = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    jittered = delay * random.uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not secrecy
    return min(jittered, BACKOFF_CAP)


def retry_failed(now: datetime) -> int:
    """Give every failed message a fresh set of attempts, due now, except those stopped
    because their recipient unsubscribed (and the dispatcher checks again before sending)."""
    with unit_of_work() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == MessageStatus.FAILED,
                OutboxMessage.last_error != UNSUBSCRIBED,
            )
            .values(status=MessageStatus.PENDING, attempts=0, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount


def remove_files(message_ids: Iterable[str]) -> None:
    """Remove the file backend's copies of these messages, wherever the backend is now."""
    directory = file_directory(current_app._get_current_object())  # type: ignore[attr-defined]
    if directory.is_dir():
        for message_id in message_ids:
            (directory / eml_name(message_id)).unlink(missing_ok=True)

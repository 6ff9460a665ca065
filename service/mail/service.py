"""What other areas call: queue messages in their own unit of work, find and forget the
messages about an event, a registration or a signature, and see how the outbox is doing.

The dispatcher lives in ``dispatch``, unsubscribing in ``unsubscribe``, content builders in
``render``; the names other areas use from them are importable from here too.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, delete, false, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from service.extensions import db
from service.mail import compose
from service.mail.dispatch import (
    DispatchResult,
    dispatch_due,
    remove_files,
    retry_failed,
)
from service.mail.models import (
    UNSUBSCRIBABLE_KINDS,
    MessageKind,
    MessageStatus,
    OutboxMessage,
)
from service.mail.render import Attachment, MessageContent, message_builder
from service.mail.transport import eml_name, file_directory
from service.mail.unsubscribe import (
    UnsubscribeRequest,
    address_hash,
    is_unsubscribed,
    read_unsubscribe_token,
    unsubscribe,
    unsubscribe_link,
    unsubscribed_addresses,
)

__all__ = [
    "Attachment",
    "DispatchResult",
    "MailStatus",
    "MessageContent",
    "UnsubscribeRequest",
    "address_hash",
    "delete_messages",
    "dispatch_due",
    "forget_messages",
    "is_unsubscribed",
    "last_queued",
    "mail_status",
    "message_builder",
    "message_statuses",
    "outbox_row",
    "queue_message",
    "queue_rows",
    "read_unsubscribe_token",
    "remove_unlisted_files",
    "retry_failed",
    "unsubscribe",
    "unsubscribe_link",
    "unsubscribed_addresses",
]

_OUTBOX = OutboxMessage.__table__
Ids = Iterable[int] | Select[Any]


def queue_message(**fields: Any) -> bool:
    """Add a message to the outbox in the caller's unit of work (no commit of its own);
    ``fields`` are ``outbox_row``'s.

    Nothing is rendered here, so a web request pays for one INSERT: the dispatcher renders
    ``templates/email/<template>.{txt,html}`` in ``language`` just before sending, from
    ``params`` (JSON: ids and short texts) through the template's registered builder, or with
    ``params`` as the context when it has none. A ``dedupe_key`` seen before is a no-op; so is
    a kind the recipient unsubscribed from. Returns whether a row was added.
    """
    row = outbox_row(**fields)
    if row["kind"] in UNSUBSCRIBABLE_KINDS and is_unsubscribed(
        row["recipient"], row["kind"], row["event_id"]
    ):
        return False
    return queue_rows([row]) == 1


def queue_test(
    to: str,
    name: str,
    *,
    language: str,
    template: str,
    params: dict[str, Any],
    now: datetime,
    event_id: int,
) -> bool:
    """A test of a message, as its recipients will get it, to the organiser who asked (``to``,
    ``name``) alone: each a row of its own. In the caller's unit of work, like ``queue_message``."""
    return queue_message(
        kind=MessageKind.TEST,
        dedupe_key=f"test:{secrets.token_hex(8)}",
        to=to,
        name=name or to,
        language=language,
        template=template,
        params=params,
        now=now,
        event_id=event_id,
    )


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
    event_id: int | None = None,
    registration_id: int | None = None,
    signature_id: int | None = None,
) -> dict[str, Any]:
    """An outbox row's values, for ``queue_message`` or, many at once, ``queue_rows``.

    ``event_id``, ``registration_id`` and ``signature_id`` say what the message is about:
    ``forget_messages`` and ``message_statuses`` find it by them, never by its params or key.
    """
    return {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "recipient": to.strip(),
        "recipient_name": compose.single_line(name),
        "language": language,
        "template": template,
        "params": params,
        "event_id": event_id,
        "registration_id": registration_id,
        "signature_id": signature_id,
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


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def last_queued(dedupe_key_prefix: str) -> datetime | None:
    """When the latest message whose dedupe key starts so was queued, if any was."""
    return db.session.scalar(
        select(func.max(OutboxMessage.created_at)).where(
            OutboxMessage.dedupe_key.startswith(dedupe_key_prefix, autoescape=True)
        )
    )


# Kinds a registration's mail comes in: an orphan of one of these was a registrant's.
_REGISTRANT_KINDS = (
    MessageKind.CONFIRMATION,
    MessageKind.WAITING_LIST,
    MessageKind.EVENT_UPDATE,
    MessageKind.REMINDER,
    MessageKind.ANNOUNCEMENT,
    MessageKind.FOLLOW_UP,
)


def _in(ids: Ids | Iterable[str]) -> Any:
    return ids if isinstance(ids, Select) else list(ids)


def _about(
    *,
    event_id: int | None,
    registration_ids: Ids | None,
    signature_ids: Ids | None,
    orphans_to: Iterable[str] | Select[Any] | None,
) -> ColumnElement[bool]:
    """Messages about the event, any of the registrations or any of the signatures, and
    registrants' messages about nothing any more that went to ``orphans_to``."""
    conditions: list[ColumnElement[bool]] = []
    if event_id is not None:
        conditions.append(OutboxMessage.event_id == event_id)
    for column, ids in (
        (OutboxMessage.registration_id, registration_ids),
        (OutboxMessage.signature_id, signature_ids),
    ):
        if ids is not None:
            conditions.append(column.in_(_in(ids)))
    if orphans_to is not None:
        conditions.append(
            and_(
                OutboxMessage.event_id.is_(None),
                OutboxMessage.registration_id.is_(None),
                OutboxMessage.kind.in_(_REGISTRANT_KINDS),
                OutboxMessage.recipient.in_(_in(orphans_to)),
            )
        )
    return or_(false(), *conditions)


def message_statuses(event_id: int) -> dict[str, MessageStatus]:
    """Dedupe key -> status of every message about the event (its reminders among them)."""
    query = select(OutboxMessage.dedupe_key, OutboxMessage.status).where(
        OutboxMessage.event_id == event_id
    )
    return dict(db.session.execute(query).all())


def forget_messages(
    *,
    event_id: int | None = None,
    registration_ids: Ids | None = None,
    signature_ids: Ids | None = None,
    orphans_to: Iterable[str] | Select[Any] | None = None,
) -> int:
    """Delete every message about the event, any of the registrations or any of the
    signatures, with the file backend's copies, in the caller's unit of work. Returns how
    many went.

    ``orphans_to`` (addresses) also takes registrants' messages that name neither event nor
    registration any more: queued before messages named their event, for a registration
    since deleted (its person registered again), so migration 0012 could not tell their
    event; retention passes the addresses of the event's registrations.
    """
    return delete_messages(
        _about(
            event_id=event_id,
            registration_ids=registration_ids,
            signature_ids=signature_ids,
            orphans_to=orphans_to,
        )
    )


def delete_messages(*where: ColumnElement[bool]) -> int:
    """Delete the outbox rows matching ``where`` and the ``.eml`` files written of them, in
    the caller's unit of work. The files go before the commit: a rollback then leaves rows
    without their copies, never copies without rows."""
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

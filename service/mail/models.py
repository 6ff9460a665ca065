"""The outbox: one row per message to send, and the addresses that asked for no more."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, enum_column, not_blank, utc_now


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MessageKind(enum.StrEnum):
    """What a message is for; unsubscribing stops one kind of mail to one address."""

    CONFIRMATION = "confirmation"
    WAITING_LIST = "waiting_list"
    REMINDER = "reminder"
    SPEAKER_REMINDER = "speaker_reminder"
    SPEAKER_INVITATION = "speaker_invitation"  # the personal link to confirm or decline
    SPEAKER_ANSWER = "speaker_answer"  # to the event's managers: a speaker confirmed or declined
    ANNOUNCEMENT = "announcement"
    FOLLOW_UP = "follow_up"  # after a meeting: one version to those who came, one to the rest
    EVENT_UPDATE = "event_update"  # a change of time, place or link, or a cancellation
    SIGNATURE = "signature"  # the link that confirms a signature, and copies of it
    TEST = "test"
    ACCOUNT = "account"  # an invitation to an organiser account, a password reset link


# Kinds that carry List-Unsubscribe and stop when the recipient unsubscribes.
UNSUBSCRIBABLE_KINDS = frozenset(
    {
        MessageKind.REMINDER,
        MessageKind.SPEAKER_REMINDER,
        MessageKind.ANNOUNCEMENT,
        MessageKind.FOLLOW_UP,
    }
)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"), *not_blank("recipient"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whoever queues a message names it; the same key again is a no-op, so nothing goes twice.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, constraint=False))
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # What to render: templates/email/<template>.{txt,html}, from params through the
    # template's builder, just before sending (so a web request only inserts a row).
    template: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the message is about, for the areas that later remove or list it (retention,
    # withdrawal, the reminders page). Named by table: mail imports no other area. A row
    # deleted elsewhere leaves the message, unlinked, for its owner's own clean-up.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signatures.id", ondelete="SET NULL"), index=True
    )
    # What was sent, kept when the relay accepted it.
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    unsubscribe_url: Mapped[str] = mapped_column(String(1000), default="")
    # [{"filename", "content_type", "content"}] with text content (calendar files).
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Unsubscription(Base):
    """An address that asked for no more mail of one kind, kept as a keyed hash of the
    address (``service.mail.unsubscribe.address_hash``): the table names nobody, and only the app,
    holding ``SECRET_KEY``, can tell whether a given address is in it.

    ``event_id`` None: every event's mail of that kind; else that event's only (a speaker's
    "stop these briefs")."""

    __tablename__ = "unsubscriptions"
    __table_args__ = (
        # One row per address and kind for every event, and one per address, kind and event.
        Index(
            "uq_unsubscriptions_every_event",
            "address_hash",
            "kind",
            unique=True,
            sqlite_where=text("event_id IS NULL"),
            postgresql_where=text("event_id IS NULL"),
        ),
        Index(
            "uq_unsubscriptions_one_event",
            "address_hash",
            "kind",
            "event_id",
            unique=True,
            sqlite_where=text("event_id IS NOT NULL"),
            postgresql_where=text("event_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256, hex
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, constraint=False))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

"""Organiser accounts and the record of every export of personal data."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, not_blank, utc_now
from service.events.models import Event
from service.statements.models import Statement


def new_session_key() -> str:
    return secrets.token_hex(16)


class Organiser(UserMixin, Base):
    __tablename__ = "organisers"
    __table_args__ = not_blank("email")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # normalised
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the login session: changing it (new password, disabling) ends every session.
    session_key: Mapped[str] = mapped_column(String(32), default=new_session_key)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_login_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_key}"


class ExportRecord(Base):
    """Who exported which event's attendees (or statement's signatures), when, how many rows
    and which columns."""

    __tablename__ = "export_records"
    __table_args__ = (
        CheckConstraint("(event_id IS NULL) <> (statement_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    via: Mapped[str] = mapped_column(String(20), default="web")  # web or cli
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)

    organiser: Mapped[Organiser | None] = relationship()
    event: Mapped[Event | None] = relationship()
    statement: Mapped[Statement | None] = relationship()


class Announcement(Base):
    """A message organisers wrote to an event's registrants or waiting list."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    audience: Mapped[str] = mapped_column(String(20))  # registered or waiting
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    recipients: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship()

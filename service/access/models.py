"""Roles per event and per statement, and invitations to take them.

An admin (``Organiser.is_admin``) may do everything; any other account sees only the events
and statements it holds a role on.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, enum_column, utc_now
from service.identity import new_link_secret


class EventRole(enum.StrEnum):
    MANAGER = "manager"  # edit, publish, cancel, message, export, the event's team, access needs
    DOOR = "door"  # the attendee list with names only, search and check-in
    VIEWER = "viewer"  # counts, the chart and the attendee list, no exports


class StatementRole(enum.StrEnum):
    MANAGER = "manager"  # edit, publish, moderate, export, the statement's team
    MODERATOR = "moderator"  # approve, hide, feature; no export


class EventMember(Base):
    __tablename__ = "event_members"
    __table_args__ = (UniqueConstraint("event_id", "organiser_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[EventRole] = mapped_column(enum_column(EventRole))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    organiser = relationship("Organiser")


class StatementMember(Base):
    __tablename__ = "statement_members"
    __table_args__ = (UniqueConstraint("statement_id", "organiser_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[StatementRole] = mapped_column(enum_column(StatementRole))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    organiser = relationship("Organiser")


class Invitation(Base):
    """An emailed invitation to an account, with the roles it brings. The link carries the id
    and ``link_secret`` signed, and works until ``expires_at``, once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # normalised
    is_admin: Mapped[bool] = mapped_column(default=False)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    link_secret: Mapped[str] = mapped_column(String(32), default=new_link_secret)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    event_roles: Mapped[list[InvitedEventRole]] = relationship(
        cascade="all, delete-orphan", order_by="InvitedEventRole.id"
    )
    statement_roles: Mapped[list[InvitedStatementRole]] = relationship(
        cascade="all, delete-orphan", order_by="InvitedStatementRole.id"
    )


class InvitedEventRole(Base):
    __tablename__ = "invited_event_roles"
    __table_args__ = (UniqueConstraint("invitation_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    role: Mapped[EventRole] = mapped_column(enum_column(EventRole))


class InvitedStatementRole(Base):
    __tablename__ = "invited_statement_roles"
    __table_args__ = (UniqueConstraint("invitation_id", "statement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[StatementRole] = mapped_column(enum_column(StatementRole))

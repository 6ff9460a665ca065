"""A person's registration for an event, each use of their personal joining link, and the
announcements organisers send to an event's registrants."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, Str200, enum_column, not_blank, utc_now
from service.events.models import Event, EventFormat
from service.identity import new_link_secret


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"


class RegistrationMode(enum.StrEnum):
    """How a person takes part: in the room or online. A hybrid event has a capacity and a
    waiting list for each; an in-person or online event has only its own."""

    IN_PERSON = "in_person"
    ONLINE = "online"


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "email"),
        Index("ix_registrations_event_status", "event_id", "status", "created_at"),
        *not_blank("name", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[Str200]
    email: Mapped[str] = mapped_column(String(254))  # normalised, private
    organisation: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_column(RegistrationStatus), default=RegistrationStatus.CONFIRMED
    )
    mode: Mapped[RegistrationMode] = mapped_column(
        enum_column(RegistrationMode), default=RegistrationMode.IN_PERSON
    )
    # A hybrid registrant waiting for a place in the other part, keeping their own until then:
    # the part they asked for and when (their place in that part's queue).
    wants_mode: Mapped[RegistrationMode | None] = mapped_column(
        enum_column(RegistrationMode, name="wantedmode")
    )
    wants_mode_at: Mapped[datetime | None]
    # Consent to hear about future events: never assumed, recorded with its time.
    keep_informed: Mapped[bool] = mapped_column(default=False)
    keep_informed_at: Mapped[datetime | None]
    # Part of every signed link (manage, join): a new value revokes the links sent so far.
    link_secret: Mapped[str] = mapped_column(String(32), default=new_link_secret)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    promoted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    # Asked when the event has two or more languages (``Event.asks_language``).
    follows_language: Mapped[str | None] = mapped_column(String(8))
    needs_interpretation: Mapped[bool] = mapped_column(default=False)
    # Special-category data (health): only admins and the event's managers see it
    # (``registration.needs``); codes of ``AccessNeed``, and what else the person asked for.
    access_needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_needs_other: Mapped[str] = mapped_column(String(300), default="")

    event: Mapped[Event] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="Answer.id"
    )
    joins: Mapped[list[JoinClick]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="JoinClick.id"
    )

    @property
    def is_confirmed(self) -> bool:
        return self.status is RegistrationStatus.CONFIRMED

    @property
    def is_waiting(self) -> bool:
        return self.status is RegistrationStatus.WAITING

    @property
    def is_cancelled(self) -> bool:
        return self.status is RegistrationStatus.CANCELLED

    @property
    def takes_part_online(self) -> bool:
        """Online: every registrant of an online event, those who chose it at a hybrid one."""
        return takes_part_online(self.event.format, self.mode)

    @property
    def takes_part_in_the_room(self) -> bool:
        return self.event.has_venue and not self.takes_part_online


def takes_part_online(event_format: EventFormat, mode: RegistrationMode) -> bool:
    """Whether a registrant of an event of ``event_format`` in ``mode`` joins online: only a
    hybrid event's registrants choose; the others take part as the event does."""
    if event_format is EventFormat.HYBRID:
        return mode is RegistrationMode.ONLINE
    return event_format is EventFormat.ONLINE


class JoinClick(Base):
    """One use of a personal joining link that led into the meeting."""

    __tablename__ = "join_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    clicked_at: Mapped[datetime] = mapped_column(default=utc_now)

    registration: Mapped[Registration] = relationship(back_populates="joins")


class Answer(Base):
    """A registrant's answer to one of the event's own questions."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("event_questions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text, default="")

    registration: Mapped[Registration] = relationship(back_populates="answers")


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

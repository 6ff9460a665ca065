"""An event's follow-up, and its two versions: for those who attended and those who did not."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, Localised, enum_column, utc_now
from service.events.models import Event
from service.statements.models import Statement


class Audience(enum.StrEnum):
    """Who a version of the follow-up is for (``registration.attendance.attended_ids``)."""

    ATTENDED = "attended"
    MISSED = "missed"


class FollowUp(Base):
    """What an event's confirmed registrants are sent once, after it ends: at ``send_at``,
    or at the end if the event moved later. ``sent_at`` is set in the unit of work that
    queues the messages, so nothing is sent twice, also after an edit."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    recording_url: Mapped[str] = mapped_column(String(1000), default="")
    slides_url: Mapped[str] = mapped_column(String(1000), default="")
    # The statement the mail asks people to sign (its sign form opens with their name in it).
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="SET NULL")
    )
    send_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)  # messages queued when it was sent
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    event: Mapped[Event] = relationship()
    statement: Mapped[Statement | None] = relationship()
    versions: Mapped[list[FollowUpVersion]] = relationship(
        back_populates="follow_up", cascade="all, delete-orphan", order_by="FollowUpVersion.id"
    )

    def version(self, audience: Audience) -> FollowUpVersion:
        return next(version for version in self.versions if version.audience is audience)


class FollowUpVersion(Localised, Base):
    """The mail one audience gets: subject and Markdown body in English (and Spanish), and
    which of the follow-up's links go under the body, as buttons."""

    __tablename__ = "follow_up_versions"
    __table_args__ = (UniqueConstraint("follow_up_id", "audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id", ondelete="CASCADE"))
    audience: Mapped[Audience] = mapped_column(enum_column(Audience))
    subject: Mapped[str] = mapped_column(String(300))
    subject_es: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    body_es: Mapped[str | None] = mapped_column(Text)
    with_recording: Mapped[bool] = mapped_column(default=False)
    with_slides: Mapped[bool] = mapped_column(default=False)
    with_sign: Mapped[bool] = mapped_column(default=False)

    follow_up: Mapped[FollowUp] = relationship(back_populates="versions")

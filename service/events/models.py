"""An event, the people on its bill and the organisations supporting it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, Localised, Str200, Str500, enum_column, utc_now
from service.identity import new_link_secret
from service.media.models import Image

DEFAULT_ATTENDEE_REMINDERS = (24 * 60, 60)  # a day and an hour before
DEFAULT_SPEAKER_REMINDERS = (48 * 60, 120)  # two days and two hours before


class EventFormat(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class PersonRole(enum.StrEnum):
    SPEAKER = "speaker"
    CHAIR = "chair"


class SpeakerAnswer(enum.StrEnum):
    """What a person on the bill said to their invitation."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"


class SpeakerState(enum.StrEnum):
    """Where a person on the bill stands, as the organisers' speakers page shows it."""

    NOT_INVITED = "not_invited"
    INVITED = "invited"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class Event(Localised, Base):
    __tablename__ = "events"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable identity for calendars: the iCalendar UID survives a change of slug.
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[Str200]
    title_es: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    summary_es: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    description_es: Mapped[str | None] = mapped_column(Text)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Europe/London
    extra_timezones: Mapped[list[str]] = mapped_column(JSON, default=list)
    format: Mapped[EventFormat] = mapped_column(enum_column(EventFormat))
    venue: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    # Private: only registrants ever see it (mail, personal joining link).
    join_url: Mapped[str] = mapped_column(String(1000), default="")
    capacity: Mapped[int | None]  # of the room, for a hybrid event
    online_capacity: Mapped[int | None]  # a hybrid event's online places (None: no limit)
    waiting_list: Mapped[bool] = mapped_column(default=True)
    # Registration is open from (if set) until (if set) and never once the event has started.
    registration_opens_at: Mapped[datetime | None]
    registration_closes_at: Mapped[datetime | None]
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus), default=EventStatus.DRAFT, index=True
    )
    organised_by: Mapped[str] = mapped_column(String(200), default="")
    # Minutes before the start at which reminders go out.
    attendee_reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_ATTENDEE_REMINDERS)
    )
    speaker_reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_SPEAKER_REMINDERS)
    )
    # The speaker brief: when to arrive or join for a tech check, and anything else they need.
    speaker_arrival_minutes: Mapped[int] = mapped_column(default=30)
    speaker_notes: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # The organisers' own line in every attendee reminder ("bring your union banner").
    reminder_note: Mapped[str] = mapped_column(Text, default="")
    # The languages the meeting can be followed in ("en", "es"); with two or more the
    # registration form asks which one and whether through interpretation.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # How to reach the interpreted channel of each language ("In Zoom, choose Interpretation
    # → Spanish", "Headsets at the desk"): told only to those who need interpretation.
    interpretation_en: Mapped[str] = mapped_column(String(300), default="")
    interpretation_es: Mapped[str] = mapped_column(String(300), default="")
    # Attendees' personal data is removed this many days after the event (None: the default).
    retention_days: Mapped[int | None]
    personal_data_removed_at: Mapped[datetime | None]
    # Bumped whenever calendar-visible details change, so clients replace their copy.
    sequence: Mapped[int] = mapped_column(default=0)
    # The series this event is one date of ("Repeat"); each date has its own registrations.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("event_series.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    image: Mapped[Image | None] = relationship(lazy="selectin")
    people: Mapped[list[EventPerson]] = relationship(
        back_populates="event",
        order_by="EventPerson.position",
        cascade="all, delete-orphan",
    )
    supporters: Mapped[list[Supporter]] = relationship(
        back_populates="event",
        order_by="Supporter.position",
        cascade="all, delete-orphan",
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="event",
        order_by="Question.position",
        cascade="all, delete-orphan",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_online(self) -> bool:
        return self.format is not EventFormat.IN_PERSON

    @property
    def has_venue(self) -> bool:
        return self.format is not EventFormat.ONLINE

    @property
    def is_cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED

    @property
    def asks_language(self) -> bool:
        """Whether its registration form asks which language a person will follow."""
        return len(self.languages) >= 2

    def interpretation_channel(self, language: str | None) -> str:
        """How to reach the channel interpreted into ``language`` ("" when not told)."""
        if language not in self.languages:
            return ""
        return {"en": self.interpretation_en, "es": self.interpretation_es}.get(language, "")

    @property
    def speakers(self) -> list[EventPerson]:
        return [person for person in self.people if person.role is PersonRole.SPEAKER]

    @property
    def chairs(self) -> list[EventPerson]:
        return [person for person in self.people if person.role is PersonRole.CHAIR]


def _site_language() -> str:
    return current_app.config["BABEL_DEFAULT_LOCALE"]


class EventPerson(Localised, Base):
    """A speaker or chair on the event's bill, and where their invitation stands."""

    __tablename__ = "event_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[Str200]
    role: Mapped[PersonRole] = mapped_column(enum_column(PersonRole), default=PersonRole.SPEAKER)
    affiliation: Mapped[str] = mapped_column(String(300), default="")
    # Private: used for the invitation and speaker reminders, never shown publicly.
    email: Mapped[str | None] = mapped_column(String(254))
    # Of their invitation and brief: the site's language unless an organiser chose theirs.
    language: Mapped[str] = mapped_column(String(8), default=_site_language)
    # Markdown, written by the speaker on their own page; shown once they confirm.
    bio: Mapped[str] = mapped_column(Text, default="")
    bio_es: Mapped[str | None] = mapped_column(Text)
    invited_at: Mapped[datetime | None]
    answer: Mapped[SpeakerAnswer | None] = mapped_column(enum_column(SpeakerAnswer))
    answered_at: Mapped[datetime | None]
    # Part of the speaker's signed link: inviting again makes a new one, revoking the old link.
    link_secret: Mapped[str] = mapped_column(String(32), default=new_link_secret)

    # Their own photo, from their page (``speaker_views``); shown while they are confirmed.
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    photo: Mapped[Image | None] = relationship(lazy="selectin")

    event: Mapped[Event] = relationship(back_populates="people")

    @property
    def state(self) -> SpeakerState:
        if self.answer is not None:
            return SpeakerState(self.answer.value)
        return SpeakerState.INVITED if self.invited_at else SpeakerState.NOT_INVITED

    @property
    def is_public(self) -> bool:
        """On the public page: everyone but those who declined."""
        return self.answer is not SpeakerAnswer.DECLINED


class Supporter(Base):
    """An organisation supporting the event ("Supported by …")."""

    __tablename__ = "event_supporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[Str500]

    event: Mapped[Event] = relationship(back_populates="supporters")


class QuestionKind(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"  # one of ``choices``
    CHECKBOX = "checkbox"


class Question(Base):
    """An organiser's own question in the registration form."""

    __tablename__ = "event_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind))
    label: Mapped[str] = mapped_column(String(300))
    label_es: Mapped[str | None] = mapped_column(String(300))
    # For single choice: [{"en": "...", "es": "..."}], in order.
    choices: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship(back_populates="questions")


class EventSeries(Localised, Base):
    """Events repeated weekly, fortnightly or monthly, listed together at ``/series/<slug>``.
    Each date is an ordinary event; the series only links them."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[Str200]
    title_es: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


# --- slug history ---
class EventSlug(Base):
    """An address an event had before it was renamed: it redirects to the event's address now,
    and no other event may take it."""

    __tablename__ = "event_slugs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

"""A statement, its signatures, and the words of signatories' names that search looks up."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, Localised, Str200, enum_column, not_blank, utc_now
from service.identity import new_link_secret
from service.media.models import Image


class StatementStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Statement(Localised, Base):
    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[Str200]
    title_es: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    summary_es: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    body_es: Mapped[str | None] = mapped_column(Text)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    status: Mapped[StatementStatus] = mapped_column(
        enum_column(StatementStatus), default=StatementStatus.DRAFT
    )
    open_for_signing: Mapped[bool] = mapped_column(default=True)
    target_count: Mapped[int | None]
    # True: a confirmed signature waits for an organiser's approval before it counts.
    requires_approval: Mapped[bool] = mapped_column(default=False)
    # Kept by every change to a signature (service._count_change), so a page with 100,000
    # signatures does not count them: approved ones, and those of them listed by name.
    signature_count: Mapped[int] = mapped_column(default=0)
    listed_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    image: Mapped[Image | None] = relationship(lazy="selectin")

    @property
    def is_published(self) -> bool:
        return self.status is StatementStatus.PUBLISHED


class SignatureStatus(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"  # the emailed link has not been followed yet
    AWAITING_APPROVAL = "awaiting_approval"  # confirmed; the statement needs approval
    APPROVED = "approved"  # counted, and listed when show_name
    HIDDEN = "hidden"  # removed from the list and the count by an organiser


class Signature(Base):
    """One person's name under a statement. The email is private; only an approved signature
    counts, and only one whose signer ticked "show my name" is listed."""

    __tablename__ = "signatures"
    __table_args__ = (
        UniqueConstraint("statement_id", "email"),
        *not_blank("name", "email"),
        # The public list, newest first and A-Z, featured first; the count uses their prefix.
        Index(
            "ix_signatures_list_newest",
            "statement_id",
            "status",
            "show_name",
            "featured",
            "confirmed_at",
            "id",
        ),
        Index(
            "ix_signatures_list_name",
            "statement_id",
            "status",
            "show_name",
            "featured",
            "sort_key",
            "id",
        ),
        # The counts per event's follow-up: only signatures that came through one are in it.
        Index(
            "ix_signatures_source_event",
            "statement_id",
            "source_event_id",
            "status",
            sqlite_where=text("source_event_id IS NOT NULL"),
            postgresql_where=text("source_event_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    name: Mapped[Str200]
    sort_key: Mapped[str] = mapped_column(String(200), default="")  # the name folded, for A-Z
    email: Mapped[str] = mapped_column(String(254))  # normalised, never shown
    affiliation: Mapped[str] = mapped_column(String(200), default="")  # "MP", "General Secretary…"
    town: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    show_name: Mapped[bool] = mapped_column(default=False)
    keep_informed: Mapped[bool] = mapped_column(default=False)
    keep_informed_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[SignatureStatus] = mapped_column(
        enum_column(SignatureStatus), default=SignatureStatus.UNCONFIRMED
    )
    featured: Mapped[bool] = mapped_column(default=False)
    # Part of every signed link (confirm, withdraw): a new value revokes the links sent so far.
    link_secret: Mapped[str] = mapped_column(String(32), default=new_link_secret)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    confirmed_at: Mapped[datetime | None]
    # The event whose follow-up's sign link the signer came by: counted per event, never shown.
    # (Events are never deleted; an ON DELETE rule added in place on SQLite would not reflect.)
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))

    statement: Mapped[Statement] = relationship()

    @property
    def is_confirmed(self) -> bool:
        return self.status is not SignatureStatus.UNCONFIRMED

    @property
    def is_listed(self) -> bool:
        return self.status is SignatureStatus.APPROVED and self.show_name


class SignatureWord(Base):
    """A word of a signatory's name, folded, so a search by name is an index range scan on
    both databases (``LIKE '%x%'`` can use no index). Each word also keeps a copy of what the
    public list filters and sorts its signature by (listed, featured, the sort keys), set by
    ``listing.record_change``, so a search's rows and count are one range of
    ``ix_signature_words_listed`` and never visit ``signatures``."""

    __tablename__ = "signature_words"
    __table_args__ = (
        Index(
            "ix_signature_words_listed",
            "statement_id",
            "listed",
            "word",
            "featured",
            "confirmed_at",
            "sort_key",
            "signature_id",
        ),
    )

    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), primary_key=True
    )
    # Byte order on PostgreSQL too, so a prefix is always one contiguous range of the index.
    word: Mapped[str] = mapped_column(
        String(60).with_variant(String(60, collation="C"), "postgresql"), primary_key=True
    )
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    listed: Mapped[bool] = mapped_column(default=False)  # Signature.is_listed
    featured: Mapped[bool] = mapped_column(default=False)
    confirmed_at: Mapped[datetime | None]
    sort_key: Mapped[str] = mapped_column(String(200), default="")

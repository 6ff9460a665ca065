"""An uploaded image, re-encoded at a few widths, and the site's one row of look settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, Localised, utc_now


class Image(Localised, Base):
    """One upload. Its files are named by ``hash`` (of the source bytes and the pipeline), one
    WebP per width and a JPEG at the largest width for share previews; two uploads of the same
    file share their files, each with its own alt text."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), index=True)
    widths: Mapped[list[int]] = mapped_column(JSON)  # ascending; the last is ``width``
    width: Mapped[int]  # of the largest file made, after applying the EXIF orientation
    height: Mapped[int]
    alt: Mapped[str] = mapped_column(String(300))
    alt_es: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    def file_name(self, width: int, extension: str = "webp") -> str:
        return f"{self.hash}-{width}.{extension}"

    def height_at(self, width: int) -> int:
        return max(round(self.height * width / self.width), 1)


class SiteSettings(Base):
    """The site's look, edited by admins: one row (id 1), made on the first save."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction: Mapped[str] = mapped_column(Text, default="")  # Markdown, above the event list
    introduction_es: Mapped[str | None] = mapped_column(Text)
    logo_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    logo: Mapped[Image | None] = relationship(lazy="selectin")

    def localised_introduction(self, language: str) -> str:
        if language == "es" and self.introduction_es:
            return self.introduction_es
        return self.introduction

"""Images: an upload is decoded, checked, turned upright, re-encoded without any of its
metadata (EXIF, GPS, XMP, comments) and resized to a few widths, never upscaled; and the
site's look (the home page's introduction, the logo).

Any area stores an image with ``store_image`` (or, from a form, ``apply_image_choice``), and
keeps the returned ``Image`` in a foreign key. Its files are named by a hash of the source and
of this pipeline, so they never change and are served with a year's cache lifetime.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import ColumnElement, exists, func, select

from service.db import Base, unit_of_work
from service.extensions import cache, db
from service.forms import tidy_text
from service.media.models import Image, SiteSettings
from service.security import read_link, sign_link

# Bump when the encoding below changes: new file names, so no cache keeps an old file.
PIPELINE = "1"
WIDTHS = (480, 960, 1600)
FORMATS = ("JPEG", "PNG", "WEBP")
WEBP_QUALITY = 80
JPEG_QUALITY = 85
ALT_MAX_LENGTH = 300
SITE_SETTINGS_ID = 1
_SRGB = ImageCms.createProfile("sRGB")


class ImageRefused(ValueError):
    """The upload is not an image we take; ``reason`` says why, in the current language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PreparedImage:
    """An upload decoded and re-encoded, not yet stored."""

    hash: str
    width: int  # of the largest file
    height: int
    webp: dict[int, bytes]  # width → file, for every width made
    jpeg: bytes  # the largest width, for share previews (og:image)

    @property
    def widths(self) -> list[int]:
        return sorted(self.webp)


@dataclass(frozen=True)
class ImageChoice:
    """What an image field of a form asks for: a new image, new alt text, or none at all."""

    upload: PreparedImage | None = None
    alt: str = ""
    alt_es: str | None = None
    remove: bool = False
    # A new image stored already, while the change it came with waits for its confirmation
    # step (``keep_for_confirmation``).
    kept: Image | None = None


KEPT_PURPOSE = "kept-image"
KEPT_FOR_SECONDS = 24 * 3600


def keep_for_confirmation(choice: ImageChoice) -> str | None:
    """Store the new image of ``choice`` ahead of a confirmation step, whose hidden fields
    cannot carry a file; a signed token naming it, for the step's form (``kept_image``). Nothing
    shows the image until the step is confirmed. None when no new image was chosen."""
    if choice.upload is None:
        return None
    image = store_image(choice.upload, choice.alt, choice.alt_es)
    return sign_link(KEPT_PURPOSE, image.id)


def kept_image(token: str) -> Image | None:
    """The image ``keep_for_confirmation`` stored, for a token of ours less than a day old,
    while nothing uses it yet (a token cannot give one thing's image to another)."""
    image_id = read_link(KEPT_PURPOSE, token[:200], max_age=KEPT_FOR_SECONDS)
    if not isinstance(image_id, int):
        return None
    return db.session.scalar(select(Image).where(Image.id == image_id, *_unused()))


def _unused() -> list[ColumnElement[bool]]:
    """Conditions on ``Image``: no row refers to it (every foreign key to ``images`` is a use)."""
    uses = [
        foreign_key.parent
        for table in Base.metadata.tables.values()
        for foreign_key in table.foreign_keys
        if foreign_key.column is Image.__table__.c.id
    ]
    return [~exists().where(column == Image.id) for column in uses]


def media_folder() -> Path:
    folder = current_app.config["MEDIA_FOLDER"] or os.path.join(current_app.instance_path, "media")
    return Path(folder)


def prepare_image(data: bytes) -> PreparedImage:
    """``data`` re-encoded as WebP at each of ``WIDTHS`` it reaches, plus a JPEG at the
    largest. Raises ``ImageRefused`` for an empty, too large, unknown, damaged or
    decompression-bomb file."""
    max_bytes = int(current_app.config["IMAGE_MAX_BYTES"])
    max_pixels = int(current_app.config["IMAGE_MAX_PIXELS"])
    if not data:
        raise ImageRefused(_("The file is empty: choose a JPEG, PNG or WebP image."))
    if len(data) > max_bytes:
        raise ImageRefused(
            _(
                "The image is larger than %(size)d MB: please choose a smaller one.",
                size=max_bytes // (1024 * 1024),
            )
        )
    too_many_pixels = _(
        "The image has more than %(millions)d million pixels: please choose a smaller one.",
        millions=max_pixels // 1_000_000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(BytesIO(data), formats=FORMATS) as source:
                if source.width * source.height > max_pixels:
                    raise ImageRefused(too_many_pixels)
                source.load()
                picture = _upright_srgb(source)
        except ImageRefused:
            raise
        except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
            raise ImageRefused(too_many_pixels) from None
        except UnidentifiedImageError:
            raise ImageRefused(_("This is not a JPEG, PNG or WebP image.")) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise ImageRefused(_("The image could not be read: the file may be damaged.")) from None
    digest = hashlib.sha256(PIPELINE.encode() + data).hexdigest()
    webp = {}
    variant = picture
    for width in sorted({min(width, picture.width) for width in WIDTHS}):
        height = max(round(picture.height * width / picture.width), 1)
        variant = picture if width == picture.width else picture.resize((width, height))
        webp[width] = _encode(variant, "WEBP", quality=WEBP_QUALITY, method=4)
    return PreparedImage(
        hash=digest,
        width=variant.width,
        height=variant.height,
        webp=webp,
        jpeg=_encode(_flattened(variant), "JPEG", quality=JPEG_QUALITY, optimize=True),
    )


def _upright_srgb(source: PILImage.Image) -> PILImage.Image:
    """The picture turned as its EXIF orientation says, in sRGB, and rebuilt from its pixels
    alone: nothing of the file's metadata is carried over."""
    picture = ImageOps.exif_transpose(source)
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    mode = "RGBA" if has_alpha else "RGB"
    profile = picture.info.get("icc_profile")
    converted = None
    if profile:
        try:
            converted = ImageCms.profileToProfile(
                picture if has_alpha or picture.mode in ("RGB", "CMYK") else picture.convert(mode),
                ImageCms.ImageCmsProfile(BytesIO(profile)),
                _SRGB,
                outputMode=mode,
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a broken profile: take the colours as they are
    picture = converted or picture.convert(mode)
    return PILImage.frombytes(mode, picture.size, picture.tobytes())


def _flattened(picture: PILImage.Image) -> PILImage.Image:
    if picture.mode != "RGBA":
        return picture
    background = PILImage.new("RGB", picture.size, "white")
    background.paste(picture, mask=picture.getchannel("A"))
    return background


def _encode(picture: PILImage.Image, image_format: str, **options: object) -> bytes:
    buffer = BytesIO()
    picture.save(buffer, image_format, **options)
    return buffer.getvalue()


def checked_alt(alt: str | None) -> str:
    text = tidy_text(alt or "")
    if not text:
        raise ImageRefused(
            _("Describe the image in a few words (alt text), for people who cannot see it.")
        )
    if len(text) > ALT_MAX_LENGTH:
        raise ImageRefused(
            _("The alt text is too long: at most %(count)d characters.", count=ALT_MAX_LENGTH)
        )
    return text


def store_image(source: bytes | PreparedImage, alt: str, alt_es: str | None = None) -> Image:
    """Store an upload (raw bytes, or as ``prepare_image`` made it) with its alt text
    (English required, Spanish optional). One unit of work; raises ``ImageRefused``."""
    alt = checked_alt(alt)
    alt_es = checked_alt(alt_es) if tidy_text(alt_es or "") else None
    prepared = source if isinstance(source, PreparedImage) else prepare_image(source)
    _write_files(prepared)
    with unit_of_work():
        image = Image(
            hash=prepared.hash,
            widths=prepared.widths,
            width=prepared.width,
            height=prepared.height,
            alt=alt,
            alt_es=alt_es,
        )
        db.session.add(image)
        db.session.flush()
    return image


def copy_image(image: Image) -> Image:
    """A row of its own for a copied event's image, sharing the files (removing one copy's
    image leaves the other's files in place, see ``_forget``)."""
    return Image(
        hash=image.hash,
        widths=list(image.widths),
        width=image.width,
        height=image.height,
        alt=image.alt,
        alt_es=image.alt_es,
    )


def apply_image_choice(owner: Any, choice: ImageChoice, attribute: str = "image") -> None:
    """Give ``owner`` (an event, a statement, the site's settings) the image a form chose in
    its ``attribute``: new alt text for the one it has, a newly stored or kept one (the old one
    goes), or none. One unit of work (or part of the caller's); raises ``ImageRefused``."""
    current: Image | None = getattr(owner, attribute)
    with unit_of_work():
        if choice.remove:
            setattr(owner, attribute, None)
        elif choice.upload is not None:
            setattr(owner, attribute, store_image(choice.upload, choice.alt, choice.alt_es))
        elif choice.kept is not None and choice.kept is not current:
            _describe(choice.kept, choice)
            setattr(owner, attribute, choice.kept)
        elif current is not None:
            _describe(current, choice)
            return
        if current is not None:
            db.session.flush()  # nothing refers to it any more
            _forget(current)


def _describe(image: Image, choice: ImageChoice) -> None:
    image.alt = checked_alt(choice.alt)
    image.alt_es = checked_alt(choice.alt_es) if tidy_text(choice.alt_es or "") else None


def forget_unused_images(now: datetime) -> int:
    """Delete the images nothing uses, a day after they were stored: those kept for a
    confirmation step that was never confirmed (``keep_for_confirmation``). Every foreign key
    to ``images`` counts as a use. Returns how many were deleted."""
    unused = select(Image).where(
        Image.created_at < now - timedelta(seconds=KEPT_FOR_SECONDS), *_unused()
    )
    with unit_of_work():
        images = list(db.session.scalars(unused))
        for image in images:
            _forget(image)
    return len(images)


def _forget(image: Image) -> None:
    """Delete the row, and its files unless another image was made from the same file."""
    db.session.delete(image)
    db.session.flush()
    others = db.session.scalar(select(func.count(Image.id)).where(Image.hash == image.hash))
    if not others:
        for path in media_folder().glob(f"{image.hash}-*"):
            path.unlink(missing_ok=True)


def _write_files(prepared: PreparedImage) -> None:
    folder = media_folder()
    folder.mkdir(parents=True, exist_ok=True)
    files = {f"{prepared.hash}-{width}.webp": data for width, data in prepared.webp.items()}
    files[f"{prepared.hash}-{prepared.width}.jpg"] = prepared.jpeg
    for name, data in files.items():
        target = folder / name
        if target.exists():
            continue
        partial = folder / f".{name}.{os.getpid()}.part"
        partial.write_bytes(data)
        partial.replace(target)  # atomic: a reader never sees half a file


def site_settings() -> SiteSettings | None:
    return db.session.get(SiteSettings, SITE_SETTINGS_ID)


def save_site_settings(
    introduction: str, introduction_es: str | None, logo: ImageChoice
) -> SiteSettings:
    """Save the home page's introduction (Markdown) and the logo; the public pages, cached
    with the old header, are rendered afresh (this process at once, others within
    ``PAGE_CACHE_SECONDS``). One unit of work; raises ``ImageRefused``."""
    with unit_of_work():
        settings = site_settings()
        if settings is None:
            settings = SiteSettings(id=SITE_SETTINGS_ID)
            db.session.add(settings)
        settings.introduction = introduction
        settings.introduction_es = introduction_es or None
        apply_image_choice(settings, logo, "logo")
    cache.clear()
    return settings

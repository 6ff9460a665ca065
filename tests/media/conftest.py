"""Images made in memory with Pillow, an instance's own media folder, organisers' logins."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image

from tests.organisers.conftest import admin, make_organiser, organiser

__all__ = ["admin", "make_organiser", "organiser"]


@pytest.fixture
def media_folder(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def app_config(media_folder: Path) -> dict[str, Any]:
    """No rate limit; mail never leaves the process; this test's own media folder."""
    return {"RATELIMIT_ENABLED": False, "MAIL_BACKEND": "memory", "MEDIA_FOLDER": str(media_folder)}


def picture(width: int = 2000, height: int = 1000, image_format: str = "JPEG", **options) -> bytes:
    """A picture whose left half is red and right half blue (so a turn is visible)."""
    image = Image.new("RGB", (width, height), "red")
    image.paste(Image.new("RGB", (width // 2, height), "blue"), (width // 2, 0))
    buffer = BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def photo_with_gps(width: int = 1200, height: int = 800, orientation: int = 1) -> bytes:
    """A JPEG as a phone takes it: camera, time, GPS position and orientation in its EXIF,
    and an XMP packet."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.DateTime] = "2026:11:30 18:02:11"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (16.0, 29.0, 24.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (68.0, 8.0, 58.0),
    }
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>secret-place</rdf:Description>'
    xmp += b"</x:xmpmeta>"
    return picture(width, height, exif=exif.tobytes(), xmp=xmp)

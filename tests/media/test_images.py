"""An upload is re-encoded without its metadata, turned upright and resized, or refused with a
reason; its files are served for a year."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags
from PIL import Image as PILImage

from service.db import utc_now
from service.events import service as events
from service.extensions import db
from service.media import service
from service.media.models import Image
from tests.media.conftest import photo_with_gps, picture


def opened(folder: Path, image: Image, width: int, extension: str = "webp") -> PILImage.Image:
    return PILImage.open(BytesIO((folder / image.file_name(width, extension)).read_bytes()))


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_each_format_is_taken_and_stored_at_three_widths(app_context, media_folder, image_format):
    image = service.store_image(picture(image_format=image_format), "Our banner")
    assert image.widths == [480, 960, 1600]
    assert (image.width, image.height) == (1600, 800)
    for width in image.widths:
        stored = opened(media_folder, image, width)
        assert stored.format == "WEBP"
        assert stored.size == (width, width // 2)
    fallback = opened(media_folder, image, 1600, "jpg")
    assert fallback.format == "JPEG" and fallback.size == (1600, 800)


def test_a_small_image_is_never_upscaled(app_context, media_folder):
    image = service.store_image(picture(700, 300, "PNG"), "A small flyer")
    assert image.widths == [480, 700]
    assert opened(media_folder, image, 700).size == (700, 300)
    assert not (media_folder / image.file_name(960)).exists()


def test_gps_and_every_other_metadata_are_gone(app_context, media_folder):
    source = photo_with_gps()
    gps = PILImage.open(BytesIO(source)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"secret-place" in source and gps[ExifTags.GPS.GPSLatitudeRef] == "S"
    image = service.store_image(source, "The march")
    for path in media_folder.glob(f"{image.hash}-*"):
        data = path.read_bytes()
        stored = PILImage.open(BytesIO(data))
        assert not stored.getexif(), path.name
        assert "xmp" not in stored.info and "exif" not in stored.info
        assert b"PhoneMaker" not in data and b"secret-place" not in data and b"Exif" not in data


def test_the_exif_orientation_is_applied(app_context, media_folder):
    # Orientation 6: the camera was turned; the picture must be shown turned 90° clockwise.
    image = service.store_image(photo_with_gps(1200, 800, orientation=6), "Turned")
    assert (image.width, image.height) == (800, 1200)
    upright = opened(media_folder, image, 800).convert("RGB")
    top, bottom = upright.getpixel((400, 50)), upright.getpixel((400, 1150))
    assert top[0] > 200 and top[2] < 60  # red (the left half) is now at the top
    assert bottom[2] > 200 and bottom[0] < 60


def test_transparency_is_kept_in_webp_and_flattened_on_white_in_the_jpeg(app_context, media_folder):
    logo = PILImage.new("RGBA", (600, 200), (0, 0, 0, 0))
    logo.paste(PILImage.new("RGBA", (200, 200), (179, 38, 30, 255)), (0, 0))
    buffer = BytesIO()
    logo.save(buffer, "PNG")
    image = service.store_image(buffer.getvalue(), "Logo")
    assert opened(media_folder, image, 600).convert("RGBA").getpixel((500, 100))[3] == 0
    assert opened(media_folder, image, 600, "jpg").getpixel((500, 100)) == (255, 255, 255)


def test_the_same_file_twice_shares_its_files_each_with_its_own_alt_text(app_context):
    data = picture()
    first = service.store_image(data, "First", "Primera")
    second = service.store_image(data, "Second")
    assert first.hash == second.hash and first.id != second.id
    assert (first.localised("alt", "es"), second.localised("alt", "es")) == ("Primera", "Second")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "The file is empty"),
        (b"GIF89a" + b"\x00" * 100, "This is not a JPEG, PNG or WebP image."),
        (b"%PDF-1.7 not a picture at all", "This is not a JPEG, PNG or WebP image."),
        (picture()[:2000], "The image could not be read: the file may be damaged."),
    ],
    ids=["empty", "gif", "pdf", "truncated"],
)
def test_what_is_not_an_image_we_take_is_refused_with_a_reason(
    app_context, media_folder, data, reason
):
    with pytest.raises(service.ImageRefused) as refused:
        service.store_image(data, "Alt")
    assert reason in refused.value.reason
    assert not media_folder.exists() or not any(media_folder.iterdir())


def test_a_gif_is_refused(app_context):
    buffer = BytesIO()
    PILImage.new("RGB", (10, 10)).save(buffer, "GIF")
    with pytest.raises(service.ImageRefused, match="not a JPEG, PNG or WebP"):
        service.prepare_image(buffer.getvalue())


def test_a_file_over_the_size_limit_is_refused(app, app_context):
    app.config["IMAGE_MAX_BYTES"] = 1024 * 1024
    with pytest.raises(service.ImageRefused, match="The image is larger than 1 MB"):
        service.prepare_image(picture(1000, 1000, "PNG", compress_level=0))


def test_a_decompression_bomb_is_refused_before_it_is_decoded(app_context):
    """A tiny PNG that says it is 20,000 by 20,000 pixels (400 million): refused, unread."""
    buffer = BytesIO()
    PILImage.new("1", (20_000, 20_000)).save(buffer, "PNG", optimize=True)
    bomb = buffer.getvalue()
    assert len(bomb) < 200_000
    with pytest.raises(service.ImageRefused, match="more than 40 million pixels"):
        service.prepare_image(bomb)


def test_a_picture_over_the_pixel_limit_is_refused(app, app_context):
    app.config["IMAGE_MAX_PIXELS"] = 1_000_000
    with pytest.raises(service.ImageRefused, match="more than 1 million pixels"):
        service.prepare_image(picture(1001, 1000))


@pytest.mark.parametrize("alt", ["", "   ", "\u200b"])
def test_alt_text_is_required(app_context, media_folder, alt):
    with pytest.raises(service.ImageRefused, match="alt text"):
        service.store_image(picture(), alt)


def test_files_are_served_for_a_year(app, client):
    with app.app_context():
        image = service.store_image(picture(), "Banner")
        name = image.file_name(960)
    with client.get(f"/media/{name}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with client.get(f"/media/{image.file_name(1600, 'jpg')}") as response:
        assert response.mimetype == "image/jpeg"


@pytest.mark.parametrize(
    "name",
    ["0" * 64 + "-480.webp", "../config.py", "convoca.sqlite", "%00", "a" * 64 + "-480.png"],
)
def test_only_an_existing_image_file_is_served(client, name):
    assert client.get(f"/media/{name}").status_code == 404


def test_removing_an_image_removes_its_files(app_context, media_folder, make_event):
    from service.events import service as events
    from service.media.service import ImageChoice

    event = events.get_event(make_event().slug)
    events.set_event_image(event, ImageChoice(upload=service.prepare_image(picture()), alt="A"))
    image_hash = event.image.hash
    assert list(media_folder.glob(f"{image_hash}-*"))
    events.set_event_image(event, ImageChoice(remove=True))
    assert event.image is None
    assert not list(media_folder.glob(f"{image_hash}-*"))


def test_a_copied_event_keeps_the_image_after_the_original_drops_it(
    app_context, media_folder, make_event
):
    """Duplicate gives the copy the image as a row of its own over the same files."""
    from datetime import UTC, datetime

    from service.events import series
    from service.events import service as events
    from service.media.service import ImageChoice

    original = events.get_event(make_event().slug)
    events.set_event_image(
        original,
        ImageChoice(upload=service.prepare_image(picture()), alt="Banner", alt_es="Pancarta"),
    )
    [copy] = series.copy_event(
        original, datetime(2031, 5, 3, 17, 30, tzinfo=UTC), now=datetime(2030, 1, 1, tzinfo=UTC)
    ).events
    assert copy.image.id != original.image.id
    assert (copy.image.hash, copy.image.alt, copy.image.alt_es) == (
        original.image.hash,
        "Banner",
        "Pancarta",
    )
    events.set_event_image(original, ImageChoice(remove=True))
    assert original.image is None and copy.image is not None
    assert all((media_folder / copy.image.file_name(w)).exists() for w in copy.image.widths)


def test_images_nothing_uses_are_forgotten_after_a_day(app_context, media_folder, make_event):
    event = events.get_event(make_event().slug)
    poster = service.ImageChoice(upload=service.prepare_image(picture(800, 400)), alt="Poster")
    events.set_event_image(event, poster)
    used = event.image
    kept = service.keep_for_confirmation(
        service.ImageChoice(upload=service.prepare_image(picture(600, 300)), alt="Not confirmed")
    )
    abandoned = service.kept_image(kept)
    files = sorted(media_folder.glob(f"{abandoned.hash}-*"))
    assert files
    now = utc_now()
    assert service.forget_unused_images(now) == 0  # its confirmation step may still come
    assert service.forget_unused_images(now + timedelta(days=2)) == 1
    assert db.session.get(Image, abandoned.id) is None
    assert not any(path.exists() for path in files)
    assert db.session.get(Image, used.id) is not None  # the event's poster stays


def test_a_kept_image_once_used_is_no_longer_given_by_its_token(app_context, make_event):
    event = events.get_event(make_event().slug)
    token = service.keep_for_confirmation(
        service.ImageChoice(upload=service.prepare_image(picture(600, 300)), alt="Poster")
    )
    kept = service.kept_image(token)
    assert kept is not None
    events.set_event_image(event, service.ImageChoice(alt="Poster", kept=kept))
    assert event.image.id == kept.id
    assert service.kept_image(token) is None  # it cannot become another event's image too

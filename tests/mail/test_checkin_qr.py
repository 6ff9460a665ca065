"""The QR code in a confirmation: an inline PNG (multipart/related, by Content-ID) that the
HTML shows with alt text, beside the check-in link it encodes, sent over real SMTP.

No QR decoder is installed here, so the PNG is read with the standard library (zlib) down to
its modules, and those must be exactly the QR symbol segno makes of the link the mail shows:
the picture is that link and no other."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, datetime

import pytest
import segno

from service.events import service as events
from service.mail import service as mail
from service.mail.compose import _inline_image
from service.registration import checkin
from service.registration import service as registration
from tests.events.fixtures import event_data
from tests.mail.fixtures import smtp_config

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
CHECKIN_LINK = re.compile(r"https://events\.example\.org/checkin/[A-Za-z0-9_.\-]+")


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


def confirmation_to_ana(smtp, **event):
    events.import_events(event_data(**event))
    registration.register(
        "solidarity-meeting", registration.Attendee("Ana López", "ana@example.org"), "en", NOW
    )
    mail.dispatch_due(NOW)
    [message] = smtp.to("ana@example.org")
    return message


def png_modules(data: bytes, scale: int, border: int) -> list[list[bool]]:
    """The dark modules of a 1-bit greyscale PNG drawn ``scale`` pixels a module."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[position + 8 + length :][:4])[0]
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (1, 0) and width == height
    raw, stride = zlib.decompress(chunks[b"IDAT"]), (width + 7) // 8
    rows, previous = [], bytes(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, line = line[0], bytearray(line[1:])
        assert kind in (0, 2), f"PNG filter {kind}"
        if kind == 2:  # "Up": each byte adds the one above it
            line = bytearray((byte + above) & 0xFF for byte, above in zip(line, previous))
        rows.append(bytes(line))
        previous = bytes(line)
    dark = [[not (row[x // 8] >> (7 - x % 8)) & 1 for x in range(width)] for row in rows]
    size = width // scale - 2 * border
    return [
        [dark[(border + y) * scale][(border + x) * scale] for x in range(size)] for y in range(size)
    ]


def test_the_confirmation_shows_the_check_in_link_and_its_qr_code_inline(app_context, smtp):
    message = confirmation_to_ana(smtp, format="hybrid", venue="Bolivar Hall")

    html = message.get_body(("html",))
    related = next(
        part for part in message.walk() if part.get_content_type() == "multipart/related"
    )
    assert html in related.iter_parts()
    [image] = [part for part in related.iter_parts() if part.get_content_type() == "image/png"]
    assert image.get_content_disposition() == "inline"
    content_id = image["Content-ID"].strip("<>")
    page = html.get_content()
    assert re.search(
        rf'<img src="cid:{re.escape(content_id)}"[^>]* alt="QR code for checking', page
    )

    [link_in_text] = CHECKIN_LINK.findall(message.get_body(("plain",)).get_content())
    assert set(CHECKIN_LINK.findall(page)) == {link_in_text}
    expected = segno.make(link_in_text, error="m").matrix
    assert png_modules(image.get_content(), scale=6, border=4) == [
        [bool(module) for module in row] for row in expected
    ]
    # The calendar file is still attached, as before.
    assert [part.get_filename() for part in message.iter_attachments()] == [
        "solidarity-meeting.ics"
    ]

    token = link_in_text.rsplit("/", 1)[1]
    found = checkin.registration_from_checkin_token(token, NOW)
    assert found is not None and found.name == "Ana López"


def test_an_online_meeting_has_no_door_and_no_qr_code(app_context, smtp):
    message = confirmation_to_ana(smtp)  # the fixture's event is online only
    assert not any(part.get_content_maintype() == "image" for part in message.walk())
    assert "/checkin/" not in message.get_body(("plain",)).get_content()


def test_an_inline_image_that_is_not_base64_is_refused_not_sent_garbled(app_context):
    with pytest.raises(ValueError, match="not base64"):
        _inline_image(
            {"filename": "x.png", "content_type": "image/png", "content": "@@", "content_id": "x"}
        )
    with pytest.raises(ValueError, match="only images"):
        _inline_image(
            {"filename": "x", "content_type": "text/html", "content": "", "content_id": "x"}
        )

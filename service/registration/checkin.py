"""The check-in link in each confirmation (``/checkin/<token>``) and its QR code: a door
volunteer's phone camera opens it and, logged in with door access, checks the person in.

The token is signed over the registration's id and ``link_secret``, so a new secret or a
cancellation kills it; it expires a day after the event ends. It names nobody: whoever has
no door access to the event learns nothing from it (``service.registration.door``)."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta

import segno

from service.mail.service import Attachment
from service.registration.links import linked_registration
from service.registration.models import Registration
from service.security import sign_link
from service.urls import absolute_url

CHECKIN = "checkin"
VALID_AFTER_THE_END = timedelta(days=1)
QR_CONTENT_ID = "checkin-qr@convoca"


def checkin_url(registration: Registration) -> str:
    token = sign_link(CHECKIN, [registration.id, registration.link_secret])
    return absolute_url("checkin.check_in_link", token=token)


def registration_from_checkin_token(token: str, now: datetime) -> Registration | None:
    """The live registration the token was made for; None if forged, of another shape, for a
    registration gone, cancelled or given a new secret, or a day past the event's end."""
    registration = linked_registration(CHECKIN, token)
    if registration is None or registration.is_cancelled:
        return None
    return registration if now < registration.event.ends_at + VALID_AFTER_THE_END else None


def qr_attachment(url: str) -> Attachment:
    """The QR code of ``url`` as a PNG to show inline (``cid:`` + ``QR_CONTENT_ID``)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=4)
    return Attachment(
        "check-in.png", "image/png", base64.b64encode(buffer.getvalue()).decode(), QR_CONTENT_ID
    )

"""Outbox rows to MIME messages: multipart text + HTML, images inline beside the HTML,
attachments, safe headers.

Built with ``email.mime`` rather than ``EmailMessage``: the latter parses every header it is
given into an object (a millisecond a message, most of the dispatcher's own time), and folds
a long unsubscribe URL into RFC 2047 encoded-words that one-click unsubscribe cannot read.
Header values made from people's input pass through ``single_line`` first.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

from flask import current_app

from service.mail.models import OutboxMessage

# Fold at RFC 5322's hard limit, not 78: a long unsubscribe URL then stays on its header's line.
POLICY = compat32.clone(max_line_length=998)
WIRE_POLICY = POLICY.clone(linesep="\r\n")  # SMTP's line end, in every byte we sign and send
UNSAFE_HEADER_CHARACTERS = str.maketrans({"\r": " ", "\n": " ", "\x00": ""})


def single_line(value: str) -> str:
    """A header value built from user input: CR, LF and NUL can never start a new header."""
    return " ".join(value.translate(UNSAFE_HEADER_CHARACTERS).split())


def sender_domain() -> str:
    return _domain_of(current_app.config["MAIL_DEFAULT_SENDER"])


@functools.lru_cache(maxsize=8)
def _domain_of(sender: str) -> str:
    _name, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


def _text(value: str) -> str | Header:
    """Plain ASCII as it is; anything else as an RFC 2047 encoded word."""
    return value if value.isascii() else Header(value, "utf-8")


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as it leaves: its envelope, and its bytes exactly as they go on the wire
    (CRLF line ends; the DKIM signature is added on top of these very bytes)."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


def outgoing_message(message: OutboxMessage) -> OutgoingMessage:
    """The outbox row as the bytes a transport sends (raises ValueError for an address the
    email package cannot write)."""
    email = build_email(message)
    return OutgoingMessage(
        sender=parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1],
        recipient=single_line(message.recipient),
        message_id=message.message_id,
        data=email.as_bytes(policy=WIRE_POLICY),
    )


def build_email(message: OutboxMessage) -> Message:
    """multipart/alternative (text, HTML), the HTML in multipart/related with its inline
    images, all in multipart/mixed when there are files attached too."""
    inline = [attachment for attachment in message.attachments if attachment.get("content_id")]
    attached = [attachment for attachment in message.attachments if attachment not in inline]
    html: Message = MIMEText(message.body_html, "html", "utf-8", policy=POLICY)
    if inline:
        related = MIMEMultipart("related", policy=POLICY)
        related.attach(html)
        for image in inline:
            related.attach(_inline_image(image))
        html = related
    body = MIMEMultipart("alternative", policy=POLICY)
    body.attach(MIMEText(message.body_text, "plain", "utf-8", policy=POLICY))
    body.attach(html)
    email: Message = body
    if attached:
        email = MIMEMultipart("mixed", policy=POLICY)
        email.attach(body)
        for attachment in attached:
            email.attach(_attachment(attachment))
    email["Subject"] = _text(single_line(message.subject))
    sender_name, sender_address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    email["From"] = formataddr((sender_name, sender_address), charset="utf-8")
    email["To"] = formataddr(
        (single_line(message.recipient_name), single_line(message.recipient)), charset="utf-8"
    )
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    email["Content-Language"] = message.language
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email["Auto-Submitted"] = "auto-generated"
    return email


def _attachment(attachment: dict[str, str]) -> Message:
    maintype, _slash, rest = attachment["content_type"].partition("/")
    subtype, *parameters = [part.strip() for part in rest.split(";")]
    if maintype != "text":
        raise ValueError(f"only text attachments are sent, not {attachment['content_type']}")
    part = MIMEText(attachment["content"], subtype, "utf-8", policy=POLICY)
    for parameter in parameters:
        name, _equals, value = parameter.partition("=")
        part.set_param(name, value)
    part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
    return part


def _inline_image(attachment: dict[str, str]) -> Message:
    """An image the HTML body shows by its Content-ID (``cid:``), from its base64 text."""
    maintype, _slash, subtype = attachment["content_type"].partition("/")
    if maintype != "image" or not subtype.isalnum():
        raise ValueError(f"only images are sent inline, not {attachment['content_type']}")
    try:
        data = base64.b64decode(attachment["content"], validate=True)
    except binascii.Error as error:
        raise ValueError(f"inline image {attachment['filename']!r} is not base64") from error
    part = MIMEImage(data, subtype, policy=POLICY)
    part["Content-ID"] = f"<{single_line(attachment['content_id'])}>"
    part.add_header("Content-Disposition", "inline", filename=single_line(attachment["filename"]))
    return part

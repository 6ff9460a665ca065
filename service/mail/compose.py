"""Outbox rows to MIME messages: multipart text + HTML, attachments, safe headers."""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app

from service.mail.models import OutboxMessage

UNSAFE_HEADER_CHARACTERS = str.maketrans({"\r": " ", "\n": " ", "\x00": ""})
# Headers fold at RFC 5322's hard limit, not 78 characters: folded at 78, a long unsubscribe
# URL (no spaces to break at) comes out as RFC 2047 encoded-words that mail providers' one-click
# unsubscribe does not read.
POLICY = policy.default.clone(max_line_length=998)


def single_line(value: str) -> str:
    """A header value built from user input: CR, LF and NUL can never start a new header."""
    return " ".join(value.translate(UNSAFE_HEADER_CHARACTERS).split())


def sender_domain() -> str:
    _name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return address.rpartition("@")[2] or "localhost"


def build_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage(policy=POLICY)
    email["Subject"] = single_line(message.subject)
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = Address(
        display_name=single_line(message.recipient_name), addr_spec=message.recipient
    )
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    email["Content-Language"] = message.language  # after the body: set_content drops Content-*
    for attachment in message.attachments:
        maintype, _slash, rest = attachment["content_type"].partition("/")
        subtype, *parameters = [part.strip() for part in rest.split(";")]
        options = {
            "subtype": subtype,
            "filename": attachment["filename"],
            "params": dict(parameter.split("=", 1) for parameter in parameters),
        }
        if maintype == "text":
            email.add_attachment(attachment["content"], charset="utf-8", **options)
        else:
            email.add_attachment(attachment["content"].encode(), maintype=maintype, **options)
    return email

"""Reading what the organisers' area mailed: the memory backend's messages, delivered from
the outbox as the dispatcher does."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

from flask import Flask

from service.mail import service as mail


def delivered_to(app: Flask, address: str) -> list[EmailMessage]:
    """Send what is due, then every message that went to ``address``, oldest first."""
    with app.app_context():
        mail.dispatch_due(datetime.now(UTC))
    messages = [
        email.message_from_bytes(sent.data, policy=policy.default)
        for sent in app.extensions.get("mail_sent", [])
    ]
    return [message for message in messages if address in str(message["To"])]


def link_in(message: EmailMessage, path: str) -> str:
    """The path of the link under ``path`` in a message's text."""
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", text).group(1)

"""Message content: the builders areas register, and rendering a message's templates in its
recipient's language just before it is sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import force_locale

from service.mail import compose
from service.mail.models import UNSUBSCRIBABLE_KINDS, OutboxMessage
from service.mail.unsubscribe import unsubscribe_link


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message. Text goes as it is; an image goes base64-encoded (the
    outbox keeps attachments as JSON) and, with a ``content_id``, inline: the HTML body shows
    it as ``<img src="cid:CONTENT_ID">``."""

    filename: str
    content_type: str  # e.g. "text/calendar; method=PUBLISH", "image/png"
    content: str
    content_id: str = ""


@dataclass(frozen=True)
class MessageContent:
    """What a message's templates need, rebuilt from its params just before it is sent."""

    context: dict[str, Any]
    attachments: list[Attachment] = field(default_factory=list)


# (params, memo) -> content. The memo lives for one batch, so messages about the same event
# share the work of loading and formatting it.
Builder = Callable[[dict[str, Any], dict[Any, Any]], MessageContent]
_BUILDERS: dict[str, Builder] = {}


def message_builder(*templates: str) -> Callable[[Builder], Builder]:
    """Register the function that turns a message's params into its templates' context."""

    def register(builder: Builder) -> Builder:
        for template in templates:
            _BUILDERS[template] = builder
        return builder

    return register


def render_message(message: OutboxMessage, memo: dict[Any, Any]) -> None:
    """Fill in the message's subject, bodies and attachments, in the recipient's language."""
    if not message.template:  # queued before messages were rendered when sent
        return
    builder = _BUILDERS.get(message.template)
    unsubscribe_url = (
        unsubscribe_link(message.recipient, message.kind, message.event_id)
        if message.kind in UNSUBSCRIBABLE_KINDS
        else ""
    )
    with force_locale(message.language):
        content = builder(message.params, memo) if builder else MessageContent(message.params)
        subject, body_text, body_html = render_email(
            message.template,
            {
                **content.context,
                "recipient_name": message.recipient_name,
                "unsubscribe_url": unsubscribe_url,
            },
        )
    message.subject, message.body_text, message.body_html = subject, body_text, body_html
    message.unsubscribe_url = unsubscribe_url
    message.attachments = [
        *message.attachments,
        *(attachment.__dict__ for attachment in content.attachments),
    ]


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text body and HTML body; the text template sets ``subject`` at top level,
    and the HTML one gets it as ``subject_line`` (its ``<title>``)."""
    context = dict(context)
    current_app.update_template_context(context)
    environment = current_app.jinja_env
    text = environment.get_template(f"email/{template}.txt").make_module(context)
    subject = compose.single_line(text.subject)
    html = environment.get_template(f"email/{template}.html").render(
        {**context, "subject_line": subject}
    )
    return subject, str(text).strip() + "\n", html

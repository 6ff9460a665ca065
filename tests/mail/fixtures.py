"""A real SMTP server on loopback (aiosmtpd), and a guard against mail leaving the machine."""

from __future__ import annotations

import email
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPSink:
    """Collects what arrives; ``replies`` queues answers to DATA (e.g. "451 4.3.0 try again")."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as they came over the wire
        self.replies: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.raw.append(envelope.original_content)
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
            )
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in str(message["To"])]

    def count_by_message_id(self) -> Counter[str]:
        return Counter(str(message["Message-ID"]) for message in self.messages)


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    sink = SMTPSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


def smtp_config(sink: SMTPSink) -> dict[str, Any]:
    return {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": sink.port,
        "MAIL_TIMEOUT": 5,
        "MAIL_DEFAULT_SENDER": "Friends of Bolivia <events@friendsofbolivia.example>",
        "ORGANISER_EMAIL": "organisers@friendsofbolivia.example",
    }


@pytest.fixture(autouse=True)
def no_mail_leaves_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any SMTP connection to a host other than loopback fails the test (as Indico does)."""
    real_create_connection = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host = address[0]
        if host not in ("127.0.0.1", "localhost", "::1"):
            pytest.fail(f"test tried to connect to {address}")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)

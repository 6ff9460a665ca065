"""Ways a message leaves: an SMTP relay, ``.eml`` files in a folder, or a list in memory."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from flask import Flask

from service.mail import signing
from service.mail.compose import OutgoingMessage


class DeliveryError(Exception):
    """The relay did not take the message; ``reply`` is what it said."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class TemporaryFailure(DeliveryError):
    """Try again later: a 4xx reply, a refused connection, a timeout."""


class PermanentFailure(DeliveryError):
    """Do not try again: a 5xx reply for this message."""


class RelayUnavailable(TemporaryFailure):
    """No connection to the relay: nothing in this batch can go now."""


class Transport(Protocol):
    def __enter__(self) -> Transport: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def send(self, message: OutgoingMessage) -> None: ...


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()


class SMTPTransport:
    """One connection for a batch, opened on first use and reopened after the relay drops it."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.host: str = config["MAIL_SERVER"]
        self.port: int = int(config["MAIL_PORT"])
        self.use_tls: bool = config["MAIL_USE_TLS"]
        self.use_ssl: bool = config["MAIL_USE_SSL"]
        self.username: str | None = config["MAIL_USERNAME"]
        self.password: str | None = config["MAIL_PASSWORD"]
        self.timeout: float = float(config["MAIL_TIMEOUT"])
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SMTPTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._close()

    def _connect(self) -> smtplib.SMTP:
        # Loading the system's CA certificates costs milliseconds: only when TLS is on.
        context = ssl.create_default_context() if self.use_ssl or self.use_tls else None
        try:
            if self.use_ssl:
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.use_tls:
                    connection.starttls(context=context)
            if self.username:
                connection.login(self.username, self.password or "")
        except smtplib.SMTPResponseException as error:
            raise RelayUnavailable(_reply(error.smtp_code, error.smtp_error)) from error
        except (OSError, smtplib.SMTPException) as error:
            raise RelayUnavailable(f"cannot reach {self.host}:{self.port}: {error}") from error
        return connection

    def probe(self) -> str:
        """Connect, say EHLO (after STARTTLS and login as configured) and quit; returns the
        relay's greeting. Raises ``RelayUnavailable`` with the reason (``flask doctor``)."""
        connection = self._connect()
        try:
            code, reply = connection.ehlo()
        except (OSError, smtplib.SMTPException) as error:
            raise RelayUnavailable(
                f"no answer to EHLO from {self.host}:{self.port}: {error}"
            ) from error
        finally:
            self.connection = connection
            self._close()
        if code != 250:
            raise RelayUnavailable(_reply(code, reply))
        return _reply(code, reply).splitlines()[0]

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None

    def send(self, message: OutgoingMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            # Bytes go through smtplib as they are (only dot-stuffed, which the relay undoes).
            refused = self.connection.sendmail(message.sender, [message.recipient], message.data)
        except smtplib.SMTPRecipientsRefused as error:
            [(code, reply)] = list(error.recipients.values())[:1]
            raise _failure(code, reply) from error
        except smtplib.SMTPResponseException as error:
            if error.smtp_code == 421:  # the relay is closing the connection
                self._close()
            raise _failure(error.smtp_code, error.smtp_error) from error
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            self.connection.close()
            self.connection = None
            raise TemporaryFailure(f"connection lost: {error}") from error
        if refused:
            [(code, reply)] = list(refused.values())[:1]
            raise _failure(code, reply)


def _failure(code: int, message: bytes | str) -> DeliveryError:
    reply = _reply(code, message)
    return PermanentFailure(reply) if 500 <= code < 600 else TemporaryFailure(reply)


class FileTransport:
    """Writes each message as an ``.eml`` file, for running without a relay."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __enter__(self) -> FileTransport:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def send(self, message: OutgoingMessage) -> None:
        (self.directory / eml_name(message.message_id)).write_bytes(message.data)


def eml_name(message_id: str) -> str:
    """The file a message is written to, named by its Message-ID (random, names nobody), so
    that deleting outbox rows can find their files."""
    return message_id.strip("<>").replace("@", "_at_").replace("/", "_") + ".eml"


def file_directory(app: Flask) -> Path:
    """Where the ``file`` backend writes (``MAIL_FILE_DIR``, default ``instance/outbox``)."""
    return Path(app.config["MAIL_FILE_DIR"] or Path(app.instance_path) / "outbox")


class MemoryTransport:
    """Keeps sent messages in ``app.extensions['mail_sent']``, for tests."""

    def __init__(self, sent: list[OutgoingMessage]) -> None:
        self.sent = sent

    def __enter__(self) -> MemoryTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


def make_transport(app: Flask) -> Transport:
    """The configured way out; with DKIM configured, every message is signed on its way."""
    transport = _backend(app)
    signer = signing.load_signer(app.config)
    return signing.SigningTransport(transport, signer) if signer else transport


def _backend(app: Flask) -> Transport:
    config = app.config
    backend = config["MAIL_BACKEND"] or ("smtp" if config["MAIL_SERVER"] else "file")
    if backend == "smtp":
        return SMTPTransport(config)
    if backend == "file":
        return FileTransport(file_directory(app))
    if backend == "memory":
        return MemoryTransport(app.extensions.setdefault("mail_sent", []))
    raise ValueError(f"MAIL_BACKEND must be smtp, file or memory, not {backend!r}")

"""DKIM: every message signed just before it leaves, and the key pair to sign with.

Receiving servers check the signature against the public key we publish in DNS at
``<selector>._domainkey.<domain>``; with SPF and DMARC it is what keeps our mail out of spam
folders and stops others sending as us. The signature covers the exact bytes the transport
sends (CRLF line ends), so nothing may change them after ``sign``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import dkim
import dkim.crypto
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.config import ConfigError
from service.mail.compose import OutgoingMessage

if TYPE_CHECKING:
    from service.mail.transport import Transport

KEY_BITS = 2048
# Each named twice: a header is signed once more than it appears, so none can be added later
# (RFC 6376 §8.15) without breaking the signature. List-Unsubscribe-Post must be signed for
# one-click unsubscribe to be trusted (RFC 8058 §4).
SIGNED_HEADERS = [
    *(
        name.encode()
        for name in (
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "Reply-To",
            "MIME-Version",
            "Content-Type",
            "Content-Transfer-Encoding",
            "Content-Language",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "Auto-Submitted",
        )
    )
] * 2


@dataclass(frozen=True)
class DKIMSigner:
    domain: str
    selector: str
    private_key: bytes  # PEM

    def sign(self, message: OutgoingMessage) -> OutgoingMessage:
        """The same message with a ``DKIM-Signature`` header on top of its bytes."""
        header = dkim.sign(
            message.data,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),  # survives relays that re-fold headers
            include_headers=SIGNED_HEADERS,
            linesep=b"\r\n",
        )
        return replace(message, data=header + message.data)


def load_signer(config: dict[str, Any]) -> DKIMSigner | None:
    """The signer ``DKIM_*`` describe, or None when signing is off (no ``DKIM_DOMAIN``)."""
    domain = config["DKIM_DOMAIN"]
    if not domain:
        return None
    # str(): CONVOCA_DKIM_SELECTOR=2027 arrives as a number (environment values are JSON).
    selector, key_path = str(config["DKIM_SELECTOR"]), config["DKIM_PRIVATE_KEY_PATH"]
    try:
        private_key = Path(key_path).read_bytes()
        dkim.crypto.parse_pem_private_key(private_key)
    except (OSError, ValueError, dkim.crypto.UnparsableKeyError) as error:
        raise ConfigError(
            f"cannot read the DKIM key at DKIM_PRIVATE_KEY_PATH={key_path}: {error}"
        ) from error
    return DKIMSigner(domain=domain, selector=selector, private_key=private_key)


class SigningTransport:
    """Signs each message, then hands exactly those bytes to the transport it wraps."""

    def __init__(self, transport: Transport, signer: DKIMSigner) -> None:
        self.transport = transport
        self.signer = signer

    def __enter__(self) -> SigningTransport:
        self.transport.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.transport.__exit__(kind, error, tb)

    def send(self, message: OutgoingMessage) -> None:
        self.transport.send(self.signer.sign(message))


@dataclass(frozen=True)
class DNSRecord:
    name: str  # e.g. 2027._domainkey.friendsofbolivia.org
    value: str  # v=DKIM1; k=rsa; p=...

    def zone_file_line(self) -> str:
        """The record for a zone file: TXT strings hold at most 255 characters each."""
        chunks = [self.value[start : start + 255] for start in range(0, len(self.value), 255)]
        quoted = " ".join(f'"{chunk}"' for chunk in chunks)
        return f"{self.name}. IN TXT ( {quoted} )"


def dns_record(private_key: bytes, selector: str, domain: str) -> DNSRecord:
    """The TXT record that publishes the public half of ``private_key`` (PEM)."""
    key = serialization.load_pem_private_key(private_key, password=None)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DNSRecord(
        name=f"{selector}._domainkey.{domain}",
        value="v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode("ascii"),
    )


def write_key_pair(path: Path) -> bytes:
    """A new 2048-bit RSA key, written to ``path`` readable by its owner only; returns it.

    Refuses (FileExistsError) to replace a key already there: the published record and mail
    in flight still depend on it.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, what dkimpy reads
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(pem)
    return pem

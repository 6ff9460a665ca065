"""How people are recognised: the form an email address is compared in, and the random secret
that each personal link (a registration's, a signature's) carries."""

from __future__ import annotations

import secrets


def normalise_email(address: str) -> str:
    """The form addresses are compared in: trimmed, lower-case."""
    return address.strip().lower()


def new_link_secret() -> str:
    return secrets.token_hex(16)

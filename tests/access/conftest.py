"""Accounts with each role on an event and a statement, for the access tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.organisers.conftest import admin, make_organiser

__all__ = ["admin", "make_organiser"]


@pytest.fixture
def app_config() -> dict[str, Any]:
    """No rate limit; mail never leaves the process."""
    return {"RATELIMIT_ENABLED": False, "MAIL_BACKEND": "memory"}

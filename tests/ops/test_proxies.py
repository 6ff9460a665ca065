"""Behind a proxy each visitor is counted on their own address, and only a trusted proxy's
headers count (logins per account: tests/organisers/test_login.py)."""

from __future__ import annotations

import pytest
from flask import request

from service.extensions import db
from service.ops import service
from tests.organisers.conftest import login

PROXY = "10.0.0.2"  # nginx, as the app sees it


def behind_proxy(app, forwarded_for: str | None):
    """A browser whose requests reach the app through the proxy."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


class TestOneTrustedProxy:
    @pytest.fixture
    def app_config(self):
        return {
            "TRUSTED_PROXIES": 1,
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "2 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "100 per minute",
            "MAIL_BACKEND": "memory",
        }

    def test_two_visitors_behind_one_proxy_are_counted_apart(self, app):
        ana, ben = behind_proxy(app, "203.0.113.5"), behind_proxy(app, "198.51.100.7")
        for attempt in range(2):
            assert login(ana, f"a{attempt}@example.org", "wrong").status_code == 401
        assert login(ana, "a9@example.org", "wrong").status_code == 429
        assert login(ben, "b0@example.org", "wrong").status_code == 401  # Ben has his own count

    def test_only_the_nearest_proxys_entry_counts(self, app):
        """A visitor who sends X-Forwarded-For themselves cannot pick their address: nginx
        appends the real one, and only that last entry is trusted."""
        for attempt, forged in enumerate(("1.1.1.1", "2.2.2.2")):
            visitor = behind_proxy(app, f"{forged}, 203.0.113.5")
            assert login(visitor, f"a{attempt}@example.org", "wrong").status_code == 401
        visitor = behind_proxy(app, "3.3.3.3, 203.0.113.5")
        assert login(visitor, "a9@example.org", "wrong").status_code == 429

    def test_https_at_the_proxy_is_https_to_the_app(self, app):
        app.add_url_rule("/_scheme", "scheme", lambda: request.scheme)
        client = behind_proxy(app, "203.0.113.5")
        client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
        assert client.get("/_scheme").get_data(as_text=True) == "https"
        assert behind_proxy(app, "203.0.113.5").get("/_scheme").get_data(as_text=True) == "http"


class TestNoTrustedProxy:
    @pytest.fixture
    def app_config(self):
        return {
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "2 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "100 per minute",
            "MAIL_BACKEND": "memory",
        }

    def test_a_forged_x_forwarded_for_changes_nothing(self, app):
        for attempt, forged in enumerate(("203.0.113.5", "198.51.100.7")):
            visitor = behind_proxy(app, forged)
            assert login(visitor, f"a{attempt}@example.org", "wrong").status_code == 401
        assert login(behind_proxy(app, "192.0.2.1"), "a9@example.org", "wrong").status_code == 429

    def test_a_request_with_x_forwarded_for_is_noted_for_flask_doctor(self, app, client):
        with app.app_context():
            assert service.last_observed(service.UNTRUSTED_FORWARDED_FOR) is None
        client.get("/")
        with app.app_context():
            assert service.last_observed(service.UNTRUSTED_FORWARDED_FOR) is None
        client.get("/", headers={"X-Forwarded-For": "203.0.113.5"})
        with app.app_context():
            assert service.last_observed(service.UNTRUSTED_FORWARDED_FOR) is not None
            db.session.remove()

"""Configuration: defaults here, then ``instance/config.py``, then ``CONVOCA_*`` variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "SITE_NAME": "Convoca",
    # Name of the campaign group running this site, shown in the header and feeds.
    "ORGANISATION_NAME": "Friends of Bolivia",
    # The site's address, e.g. https://events.example.org: every absolute link (mail, feeds,
    # the API, canonical and share links) starts with it, never with the request's Host.
    # Required outside debug and tests (there: http://127.0.0.1:5000).
    "PUBLIC_URL": "",
    # How many proxies (nginx, a load balancer) stand in front and set X-Forwarded-For, -Proto
    # and -Host: their headers are then trusted (Werkzeug's ProxyFix). 0: headers ignored.
    "TRUSTED_PROXIES": 0,
    "LANGUAGES": ["en", "es"],
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    # Zones every event page shows besides the event's own (an event may add more).
    "DISPLAY_TIMEZONES": ["Europe/London", "America/La_Paz"],
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 3600 * 4,
    "LANGUAGE_COOKIE": "convoca_lang",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Image uploads (service/media): the largest file and picture taken, and where the
    # re-encoded files go (default: instance/media). An upload form's request may carry the
    # file plus a megabyte of other fields; beyond that the browser gets a "too large" page.
    "IMAGE_MAX_BYTES": 8 * 1024 * 1024,
    "IMAGE_MAX_PIXELS": 40_000_000,
    "MEDIA_FOLDER": "",
    # The group's own address: Reply-To of every message and ORGANIZER of calendar entries.
    "ORGANISER_EMAIL": "organisers@example.org",
    # Mail, with Flask-Mail's names. No MAIL_SERVER: messages are written to MAIL_FILE_DIR.
    "MAIL_BACKEND": "",  # smtp, file or memory; empty picks smtp when MAIL_SERVER is set
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS
    "MAIL_USE_SSL": False,  # implicit TLS, usually port 465
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Convoca <convoca@localhost>",
    "MAIL_FILE_DIR": "",  # default: instance/outbox
    "MAIL_TIMEOUT": 15,
    "MAIL_BATCH_SIZE": 100,
    "MAIL_MAX_ATTEMPTS": 10,
    "MAIL_LEASE_SECONDS": 120,
    # DKIM: with a domain set, every message is signed with the key at DKIM_PRIVATE_KEY_PATH
    # (a PEM file; `flask mail dkim-keygen` writes one and prints the DNS record to publish at
    # <DKIM_SELECTOR>._domainkey.<DKIM_DOMAIN>). Empty domain: mail goes out unsigned.
    "DKIM_DOMAIN": "",  # the d= of signatures, normally the domain of MAIL_DEFAULT_SENDER
    "DKIM_SELECTOR": "",  # names the key in DNS, e.g. "2027"; a new selector for a new key
    "DKIM_PRIVATE_KEY_PATH": "",  # readable by the scheduler's user only (mode 0600)
    # How long a registration waits for the event's lock before "please try again".
    "LOCK_WAIT_SECONDS": 5,
    # Attendees' personal data is removed this many days after an event ends (per event too).
    "RETENTION_DAYS": 90,
    # The audit record (who did what in the organisers' area) keeps entries this many days.
    "AUDIT_RETENTION_DAYS": 365,
    # Ask DNS whether an email address's domain takes mail (needs a network).
    "EMAIL_CHECK_DELIVERABILITY": False,
    # The personal joining link opens the meeting from this long before the start.
    "JOIN_OPENS_MINUTES": 30,
    # Manage links keep working until this many days after the event.
    "MANAGE_LINK_DAYS": 30,
    # A repeated registration re-sends the confirmation at most this often.
    "CONFIRMATION_RESEND_MINUTES": 5,
    # A signature's confirmation link works this long; a page then offers a new one.
    "CONFIRM_LINK_DAYS": 7,
    # The sign link in a follow-up fills in the registrant's name this long after it was sent.
    "FOLLOW_UP_SIGN_LINK_DAYS": 30,
    # A signature never confirmed is deleted this many days after signing.
    "UNCONFIRMED_SIGNATURE_DAYS": 14,
    # The link to withdraw a signature, in its confirmation email, works this long.
    "WITHDRAW_LINK_DAYS": 730,
    # Flask-Limiter: per-address limits on forms; a Redis URL shares them between processes.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": False,
    "REGISTRATION_RATE_LIMIT": "10 per minute; 60 per hour",
    "SIGNATURE_RATE_LIMIT": "10 per minute; 60 per hour",
    "LOGIN_RATE_LIMIT": "5 per minute; 30 per hour",
    # Failed logins per account (the email typed), from any number of addresses.
    "LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute; 30 per hour",
    # Asking for a password reset link and using one, per address.
    "PASSWORD_RESET_RATE_LIMIT": "5 per minute; 30 per hour",
    # Every organiser account must have a second factor (TOTP): without one, it can only set
    # it up. CONVOCA_REQUIRE_2FA=true in the environment.
    "REQUIRE_2FA": False,
    # Public pages are rendered at most once per this many seconds (0: every time). The cache
    # is per process unless CACHE_TYPE says otherwise (Flask-Caching, e.g. RedisCache).
    "PAGE_CACHE_SECONDS": 10,
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": 10,
    # Markdown shown at /privacy; empty uses the built-in notice (English and Spanish).
    "PRIVACY_NOTICE": "",
    "PRIVACY_NOTICE_ES": "",
    # A reminder is not sent to someone who registered more than this after its time.
    "REMINDER_GRACE_MINUTES": 30,
    # Run the sweep and dispatcher inside this process (make run); else `flask scheduler run`.
    "SCHEDULER_ENABLED": False,
    "SCHEDULER_DISPATCH_SECONDS": 5,
    "SCHEDULER_SWEEP_SECONDS": 60,
    # Each scheduler process (in-process ones too) records that it is alive this often...
    "SCHEDULER_HEARTBEAT_SECONDS": 30,
    # ...and /healthz and `flask doctor` call the site unhealthy without one for this long.
    "SCHEDULER_HEARTBEAT_MAX_AGE": 120,
    # Tests only (refused elsewhere): hash passwords and recovery codes with the lightest
    # Argon2id, so the suite's thousands of accounts and logins cost no CPU.
    "TEST_FAST_PASSWORD_HASHING": False,
}

# PUBLIC_URL in debug and tests when none is set: where `flask run` serves.
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def instance_path(project_root: Path) -> str:
    return os.environ.get("CONVOCA_INSTANCE_PATH") or str(project_root / "instance")


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config["SESSION_COOKIE_SECURE"] = not app.debug
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CONVOCA")
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if overrides:
        app.config.from_mapping(overrides)

    database_url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not database_url:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{Path(app.instance_path) / 'convoca.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(database_url)
    _require_secret_key(app)
    _require_dkim_settings(app)
    _require_public_url(app)
    _check_trusted_proxies(app)
    _refuse_test_settings(app)


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://`` spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _require_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise ConfigError(
        "SECRET_KEY is not set. Set CONVOCA_SECRET_KEY in the environment or SECRET_KEY in "
        "instance/config.py (e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
    )


def _require_dkim_settings(app: Flask) -> None:
    """Half a DKIM set-up is an error at start-up, not mail that silently goes out unsigned."""
    config = app.config
    if config["DKIM_DOMAIN"] and not (config["DKIM_SELECTOR"] and config["DKIM_PRIVATE_KEY_PATH"]):
        raise ConfigError(
            "DKIM_DOMAIN is set, so DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH must be too: "
            "flask mail dkim-keygen --selector NAME writes a key and prints its DNS record."
        )


def _require_public_url(app: Flask) -> None:
    url = str(app.config.get("PUBLIC_URL") or "").strip()
    if not url:
        if app.debug or app.testing:
            app.config["PUBLIC_URL"] = DEVELOPMENT_PUBLIC_URL
            return
        raise ConfigError(
            "PUBLIC_URL is not set: links in mail, feeds and the API need the site's own "
            "address. Set CONVOCA_PUBLIC_URL in the environment or PUBLIC_URL in "
            "instance/config.py, e.g. https://events.example.org."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"PUBLIC_URL must be the site's absolute address, e.g. https://events.example.org, "
            f"not {url!r}."
        )
    app.config["PUBLIC_URL"] = url.rstrip("/")


def _check_trusted_proxies(app: Flask) -> None:
    value = app.config.get("TRUSTED_PROXIES")
    try:
        trusted = int(value or 0)
    except (TypeError, ValueError):
        trusted = -1
    if trusted < 0 or isinstance(value, bool):
        raise ConfigError(
            f"TRUSTED_PROXIES must be the number of proxies in front (0, 1, 2…), not {value!r}."
        )
    app.config["TRUSTED_PROXIES"] = trusted


def _refuse_test_settings(app: Flask) -> None:
    if app.config["TEST_FAST_PASSWORD_HASHING"] and not app.testing:
        raise ConfigError(
            "TEST_FAST_PASSWORD_HASHING makes passwords cheap to guess and is for the tests "
            "alone: remove it from the configuration."
        )

"""``flask doctor``: what a live site needs, one line per check (ok, warn or fail) with the fix."""

from __future__ import annotations

import math
import os
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dns.exception
import dns.resolver
import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from service.extensions import db
from service.mail import signing
from service.mail.transport import FileTransport, RelayUnavailable, SMTPTransport, make_transport
from service.ops import service

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_SECRET_BITS = 128
PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "dev", "development", "test", "x"}
DNS_TIMEOUT_SECONDS = 3.0
NETWORK_TIMEOUT_SECONDS = 10.0
# An X-Forwarded-For seen within this long while no proxy is trusted is worth a warning.
PROXY_SIGHTING_RECENT = timedelta(days=7)


@dataclass(frozen=True)
class Check:
    status: str  # OK, WARN or FAIL
    name: str
    detail: str
    fix: str = ""


def run_checks(now: datetime, resolver: dns.resolver.Resolver | None = None) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    config = current_app.config
    checks = [check_secret_key(config), check_public_url(config)]
    database = check_database()
    checks.append(database)
    checks.append(check_mail_relay())
    if (dkim := check_dkim(config, resolver)) is not None:
        checks.append(dkim)
    checks.extend(check_redis(config))
    checks.append(check_rate_limit_storage(config, os.environ.get("WEB_CONCURRENCY")))
    if database.status == FAIL:
        unread = "not checked: the database cannot be read"
        checks.append(Check(WARN, "scheduler", unread))
        checks.append(Check(WARN, "proxies", unread))
    else:
        checks.append(check_scheduler(now))
        checks.append(check_proxies(config, now))
    return checks


def estimate_secret_bits(secret: str | bytes) -> float:
    """A generous estimate: length * log2 of the alphabet its characters come from (hex
    digits: 16; bytes: 256). A key of fewer than 8 distinct symbols is a pattern, not a key."""
    symbols = set(secret)
    if len(symbols) < 8:
        return float(len(symbols))
    if isinstance(secret, bytes):
        pool = 256
    elif all(character in string.hexdigits for character in secret):
        pool = 16
    else:
        classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
        pool = sum(len(chars) for chars in classes if any(c in chars for c in secret))
        pool += 33 if any(not character.isalnum() for character in secret) else 0
    return len(secret) * math.log2(pool)


def check_secret_key(config: Any) -> Check:
    secret = config.get("SECRET_KEY") or ""
    fix = (
        "set CONVOCA_SECRET_KEY to python3 -c 'import secrets; print(secrets.token_hex(32))' "
        "(everyone is logged out, and links already mailed stop working)"
    )
    text = secret.decode(errors="replace") if isinstance(secret, bytes) else secret
    if text.strip().lower() in PLACEHOLDER_SECRETS:
        return Check(FAIL, "secret key", "a placeholder anyone can guess", fix)
    bits = estimate_secret_bits(secret)
    if bits < MIN_SECRET_BITS:
        return Check(
            FAIL, "secret key", f"about {bits:.0f} bits, {MIN_SECRET_BITS} needed at least", fix
        )
    return Check(OK, "secret key", f"about {bits:.0f} bits ({len(secret)} characters)")


def check_public_url(config: Any) -> Check:
    url = config.get("PUBLIC_URL") or ""
    fix = "set CONVOCA_PUBLIC_URL to the site's address, e.g. https://events.example.org"
    if not url:
        return Check(FAIL, "public URL", "not set: links in mail would point nowhere", fix)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return Check(FAIL, "public URL", f"{url!r} is not an absolute http(s) address", fix)
    if parts.scheme != "https":
        return Check(
            WARN,
            "public URL",
            f"{url}: links in mail and feeds go over plain HTTP",
            "serve the site over TLS and set CONVOCA_PUBLIC_URL=https://…",
        )
    return Check(OK, "public URL", url)


def check_database() -> Check:
    """Reachable, and at the newest migration the code knows."""
    shown = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        return Check(FAIL, "database", f"cannot connect to {shown}: {reason}", "check DATABASE_URL")
    migrate_config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(migrate_config).get_heads())
    if current != heads:
        at = ", ".join(sorted(current)) or "no revision"
        return Check(
            FAIL,
            "database",
            f"{shown} is at {at}; this code needs {', '.join(sorted(heads))}",
            "run flask db upgrade",
        )
    return Check(OK, "database", f"{shown}, migrated to {', '.join(sorted(heads))}")


def check_mail_relay() -> Check:
    fix = (
        "set CONVOCA_MAIL_SERVER, CONVOCA_MAIL_PORT, CONVOCA_MAIL_USE_TLS or CONVOCA_MAIL_USE_SSL, "
        "CONVOCA_MAIL_USERNAME and CONVOCA_MAIL_PASSWORD"
    )
    try:
        transport = _delivering_transport()
    except ValueError as error:
        return Check(FAIL, "mail", str(error), "set CONVOCA_MAIL_BACKEND to smtp, file or memory")
    if isinstance(transport, FileTransport):
        return Check(WARN, "mail", f"not sent: written as files to {transport.directory}", fix)
    if not isinstance(transport, SMTPTransport):
        return Check(WARN, "mail", "not sent: kept in memory (for tests)", fix)
    transport.timeout = min(transport.timeout, NETWORK_TIMEOUT_SECONDS)
    where = f"{transport.host}:{transport.port}"
    try:
        greeting = transport.probe()
    except RelayUnavailable as error:
        said = error.reply if where in error.reply else f"relay {where}: {error.reply}"
        return Check(FAIL, "mail", said, fix)
    security = "TLS" if transport.use_ssl else "STARTTLS" if transport.use_tls else "no TLS"
    login = f", logged in as {transport.username}" if transport.username else ""
    return Check(OK, "mail", f"relay {where} answered EHLO ({security}{login}): {greeting}")


def dkim_tags(record: str) -> dict[str, str]:
    """A DKIM TXT record's tags (``v=DKIM1; k=rsa; p=…``), whitespace removed from values."""
    tags = {}
    for part in record.split(";"):
        name, _equals, value = part.partition("=")
        tags[name.strip()] = "".join(value.split())
    return tags


def check_dkim(config: Any, resolver: dns.resolver.Resolver | None = None) -> Check | None:
    """The public half of DKIM_PRIVATE_KEY_PATH is what DNS publishes for the selector."""
    settings = {name: config.get(f"DKIM_{name}") for name in ("DOMAIN", "SELECTOR")}
    settings["PRIVATE_KEY_PATH"] = config.get("DKIM_PRIVATE_KEY_PATH")
    fix = "set CONVOCA_DKIM_DOMAIN, CONVOCA_DKIM_SELECTOR and CONVOCA_DKIM_PRIVATE_KEY_PATH"
    if not any(settings.values()):
        if not _sends_mail():
            return None
        return Check(WARN, "DKIM", "mail is not signed: receivers may file it as spam", fix)
    if not all(settings.values()):
        missing = ", ".join(f"DKIM_{name}" for name, value in settings.items() if not value)
        return Check(FAIL, "DKIM", f"{missing} not set", fix)
    try:
        expected = signing.dns_record(
            Path(settings["PRIVATE_KEY_PATH"]).read_bytes(),
            str(settings["SELECTOR"]),  # CONVOCA_ values are read as JSON: 2027 is a number
            str(settings["DOMAIN"]),
        )
    except (OSError, ValueError, TypeError) as error:
        return Check(
            FAIL, "DKIM", f"cannot read {settings['PRIVATE_KEY_PATH']}: {error}", "check the file"
        )
    name, key = expected.name, dkim_tags(expected.value)["p"]
    publish = f'publish {name} TXT "{expected.value}"'
    if resolver is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            return Check(WARN, "DKIM", f"could not check {name}: no DNS resolver configured")
        resolver.lifetime = DNS_TIMEOUT_SECONDS
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return Check(FAIL, "DKIM", f"no TXT record at {name}", publish)
    except (dns.exception.DNSException, OSError) as error:
        return Check(WARN, "DKIM", f"could not check {name}: no DNS answer ({error})")
    records = [b"".join(rdata.strings).decode(errors="replace") for rdata in answer]
    if any(dkim_tags(record).get("p") == key for record in records):
        return Check(OK, "DKIM", f"{name} publishes the signing key")
    return Check(
        FAIL, "DKIM", f"{name} publishes a key other than {settings['PRIVATE_KEY_PATH']}'s", publish
    )


def _sends_mail() -> bool:
    try:
        return isinstance(_delivering_transport(), SMTPTransport)
    except ValueError:
        return False


def _delivering_transport() -> Any:
    """The transport that delivers, under the DKIM signer when there is one."""
    transport = make_transport(current_app._get_current_object())  # type: ignore[attr-defined]
    return transport.transport if isinstance(transport, signing.SigningTransport) else transport


def _redis_urls(config: Any) -> Iterator[tuple[str, str]]:
    storage = config.get("RATELIMIT_STORAGE_URI") or ""
    if storage.startswith(("redis://", "rediss://", "redis+unix://")):
        yield "rate-limit storage", storage
    if "redis" in str(config.get("CACHE_TYPE") or "").lower():
        url = config.get("CACHE_REDIS_URL") or (
            f"redis://{config.get('CACHE_REDIS_HOST') or 'localhost'}:"
            f"{config.get('CACHE_REDIS_PORT') or 6379}/{config.get('CACHE_REDIS_DB') or 0}"
        )
        yield "page cache", url


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def check_redis(config: Any) -> list[Check]:
    """Each Redis the site is configured to use answers PING."""
    checks = []
    for purpose, url in _redis_urls(config):
        shown = without_password(url)
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=NETWORK_TIMEOUT_SECONDS,
            socket_timeout=NETWORK_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        except (redis.RedisError, OSError) as error:
            checks.append(
                Check(FAIL, "redis", f"{purpose} at {shown}: {error}", "start Redis or fix the URL")
            )
        else:
            checks.append(Check(OK, "redis", f"{purpose} at {shown} answers PING"))
        finally:
            client.close()
    return checks


def check_rate_limit_storage(config: Any, web_concurrency: str | None) -> Check:
    """Rate limits are shared between web workers, or there is only one worker."""
    if not config.get("RATELIMIT_ENABLED"):
        return Check(WARN, "rate limits", "off", "set CONVOCA_RATELIMIT_ENABLED=true")
    storage = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if not storage.startswith("memory://"):
        return Check(OK, "rate limits", f"shared between workers ({urlsplit(storage).scheme})")
    fix = "set CONVOCA_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0"
    try:
        workers = int(web_concurrency) if web_concurrency else None
    except ValueError:
        workers = None
    if workers is None:
        return Check(
            WARN,
            "rate limits",
            "memory:// counts per process; WEB_CONCURRENCY is not set, so the number of web "
            "workers is unknown",
            f"{fix}, or set WEB_CONCURRENCY=1 if one worker serves the site",
        )
    if workers > 1:
        return Check(
            WARN,
            "rate limits",
            f"memory:// with WEB_CONCURRENCY={workers}: each worker counts on its own, so "
            f"every limit is {workers} times looser",
            fix,
        )
    return Check(OK, "rate limits", "memory:// (one web worker)")


def check_scheduler(now: datetime) -> Check:
    fix = (
        "run flask scheduler run as a service (or CONVOCA_SCHEDULER_ENABLED=true in one web "
        "process): without it no mail goes out"
    )
    age = service.heartbeat_age(now)
    limit = int(current_app.config["SCHEDULER_HEARTBEAT_MAX_AGE"])
    if age is None:
        return Check(FAIL, "scheduler", "no scheduler has ever run against this database", fix)
    if service.scheduler_is_late(age):
        return Check(
            FAIL,
            "scheduler",
            f"last heartbeat {_duration(age)} ago (healthy: within {limit} s)",
            fix,
        )
    return Check(OK, "scheduler", f"last heartbeat {_duration(age)} ago")


def check_proxies(config: Any, now: datetime) -> Check:
    trusted = int(config.get("TRUSTED_PROXIES") or 0)
    if trusted:
        return Check(
            OK, "proxies", f"trusting {trusted} proxy hop(s) for X-Forwarded-For, -Proto, -Host"
        )
    seen = service.last_observed(service.UNTRUSTED_FORWARDED_FOR)
    if seen is not None and now - seen < PROXY_SIGHTING_RECENT:
        return Check(
            WARN,
            "proxies",
            f"a request came with X-Forwarded-For {_duration(now - seen)} ago, but no proxy is "
            "trusted: behind a proxy every visitor shares its address, and one rate limit",
            "set CONVOCA_TRUSTED_PROXIES to the number of proxies in front (1 for one nginx)",
        )
    return Check(OK, "proxies", "none trusted, and no request came with X-Forwarded-For")


def _duration(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"

"""``flask doctor`` against real parts: an SMTP relay on loopback, Redis, the database, a DNS
server on loopback, and ports where nothing listens."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service import create_app
from service.db import utc_now
from service.ops import doctor, service
from tests.conftest import base_config, close_database
from tests.mail.fixtures import free_port, smtp_config

STRONG_SECRET = "7d4f1c0a9be35e82" * 4  # as long as secrets.token_hex(32)
REDIS = "redis://127.0.0.1:6379/15"


def beat(app, seconds_ago: float) -> None:
    with app.app_context():
        now = utc_now()
        service.record_heartbeat("sched:1", now, now - timedelta(seconds=seconds_ago))


def lines(output: str) -> dict[str, str]:
    """Each check's line by name, e.g. {"mail": "ok    mail  relay …"}."""
    return {
        match[2]: match[0]
        for match in re.finditer(r"^(ok|warn|FAIL)\s+(.+?)\s{2,}.*$", output, flags=re.M)
    }


def status(output: str, name: str) -> str:
    return lines(output)[name].split()[0]


class TestASiteSetUpRight:
    @pytest.fixture
    def app_config(self, smtp):
        return {
            **smtp_config(smtp),
            "SECRET_KEY": STRONG_SECRET,
            "TRUSTED_PROXIES": 1,
            "RATELIMIT_STORAGE_URI": REDIS,
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": REDIS,
        }

    def test_every_check_passes_and_it_exits_0(self, app, runner, monkeypatch):
        monkeypatch.setenv("WEB_CONCURRENCY", "4")
        beat(app, seconds_ago=10)
        result = runner.invoke(args=["doctor"])
        assert result.exit_code == 0, result.output
        found = lines(result.output)
        assert {name: line.split()[0] for name, line in found.items()} == {
            "secret key": "ok",
            "public URL": "ok",
            "database": "ok",
            "mail": "ok",
            "DKIM": "warn",  # not configured: mail goes out unsigned
            "redis": "ok",
            "rate limits": "ok",
            "scheduler": "ok",
            "proxies": "ok",
        }
        assert "answered EHLO" in found["mail"]
        assert f"migrated to {latest_revision(app)}" in found["database"]
        assert result.output.count("answers PING") == 2  # rate limits and the page cache
        assert "last heartbeat 10 s ago" in found["scheduler"]
        assert "fix: set CONVOCA_DKIM_DOMAIN" in result.output

    def test_with_dkim_on_the_relay_is_still_probed(self, app, runner, tmp_path, rsa_key):
        """The signer wraps the transport; the doctor looks through it to the relay."""
        app.config.update(TestDKIM().config(TestDKIM.write_key(tmp_path / "dkim.pem", rsa_key)))
        beat(app, seconds_ago=10)
        result = runner.invoke(args=["doctor"])
        assert status(result.output, "mail") == "ok", result.output
        assert "answered EHLO" in lines(result.output)["mail"]


class TestWhatFails:
    @pytest.fixture
    def app_config(self, smtp):
        return {**smtp_config(smtp), "SECRET_KEY": STRONG_SECRET}

    def test_a_relay_that_does_not_answer(self, app, runner):
        app.config["MAIL_PORT"] = port = free_port()
        beat(app, seconds_ago=0)
        result = runner.invoke(args=["doctor"])
        assert result.exit_code == 1
        assert status(result.output, "mail") == "FAIL"
        assert f"cannot reach 127.0.0.1:{port}" in lines(result.output)["mail"]
        assert "fix: set CONVOCA_MAIL_SERVER" in result.output

    def test_redis_that_does_not_answer(self, app, runner):
        app.config["RATELIMIT_STORAGE_URI"] = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
        beat(app, seconds_ago=0)
        result = runner.invoke(args=["doctor"])
        assert result.exit_code == 1
        assert status(result.output, "redis") == "FAIL"
        assert "hunter2" not in result.output

    @pytest.mark.parametrize(
        ("seconds_ago", "said"),
        [(None, "no scheduler has ever run"), (300, "last heartbeat 5 min ago")],
    )
    def test_a_scheduler_not_beating(self, app, runner, seconds_ago, said):
        if seconds_ago is not None:
            beat(app, seconds_ago)
        result = runner.invoke(args=["doctor"])
        assert result.exit_code == 1
        assert status(result.output, "scheduler") == "FAIL"
        assert said in lines(result.output)["scheduler"]
        assert "fix: run flask scheduler run" in result.output

    def test_a_proxy_in_front_that_is_not_trusted_is_a_warning(self, app, runner, client):
        beat(app, seconds_ago=0)
        client.get("/", headers={"X-Forwarded-For": "203.0.113.5"})
        result = runner.invoke(args=["doctor"])
        assert status(result.output, "proxies") == "warn"
        assert "fix: set CONVOCA_TRUSTED_PROXIES" in result.output
        assert result.exit_code == 0  # a warning alone does not fail


def test_a_database_not_migrated_fails_and_skips_what_needs_it(tmp_path):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'empty.sqlite'}", MAIL_BACKEND="memory"))
    try:
        with app.app_context():
            checks = {check.name: check for check in doctor.run_checks(utc_now())}
        assert checks["database"].status == doctor.FAIL
        assert "no revision" in checks["database"].detail
        assert checks["database"].fix == "run flask db upgrade"
        assert checks["scheduler"].status == doctor.WARN
        assert checks["mail"].status == doctor.WARN  # kept in memory: not sent
        assert "DKIM" not in checks  # no mail is sent, so nothing to sign
    finally:
        close_database(app)


def test_a_database_that_does_not_answer(tmp_path):
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{free_port()}/convoca"
    app = create_app(base_config(url, MAIL_BACKEND="memory"))
    try:
        with app.app_context():
            [database] = [c for c in doctor.run_checks(utc_now()) if c.name == "database"]
        assert database.status == doctor.FAIL
        assert "cannot connect" in database.detail
        assert "secret" not in database.detail
    finally:
        close_database(app)


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (STRONG_SECRET, doctor.OK),
        ("Xq3_vT9-LmR2pZ8kWc4YhN7bJd1FsA6e", doctor.OK),  # secrets.token_urlsafe(24)
        ("test-secret-key", doctor.FAIL),
        ("changeme", doctor.FAIL),
        ("a" * 64, doctor.FAIL),
        ("3b8e7307bf110001", doctor.FAIL),  # secrets.token_hex(8): 64 bits
    ],
)
def test_secret_key_strength(secret, expected):
    assert doctor.check_secret_key({"SECRET_KEY": secret}).status == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://events.example.org", doctor.OK),
        ("http://events.example.org", doctor.WARN),
        ("", doctor.FAIL),
    ],
)
def test_public_url(url, expected):
    assert doctor.check_public_url({"PUBLIC_URL": url}).status == expected


@pytest.mark.parametrize(
    ("storage", "workers", "expected"),
    [
        ("memory://", "1", doctor.OK),
        ("memory://", None, doctor.WARN),
        ("memory://", "3", doctor.WARN),
        (REDIS, "3", doctor.OK),
    ],
)
def test_rate_limits_shared_between_workers(storage, workers, expected):
    config = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage}
    assert doctor.check_rate_limit_storage(config, workers).status == expected


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TestDKIM:
    DOMAIN, SELECTOR = "friendsofbolivia.example", "convoca"
    NAME = f"{SELECTOR}._domainkey.{DOMAIN}"

    def config(self, key_path) -> dict:
        return {
            "DKIM_DOMAIN": self.DOMAIN,
            "DKIM_SELECTOR": self.SELECTOR,
            "DKIM_PRIVATE_KEY_PATH": str(key_path),
        }

    @staticmethod
    def write_key(path, key) -> str:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return str(path)

    @staticmethod
    def published(key) -> str:
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def test_the_published_key_matches(self, tmp_path, dns_server, rsa_key):
        path = self.write_key(tmp_path / "dkim.pem", rsa_key)
        record = f"v=DKIM1; k=rsa; p={self.published(rsa_key)}"
        dns_server.records[self.NAME] = [record[:200].encode(), record[200:].encode()]  # 2 strings
        check = doctor.check_dkim(self.config(path), dns_server.resolver())
        assert (check.status, check.detail) == (
            doctor.OK,
            f"{self.NAME} publishes the signing key",
        )

    def test_another_key_published_fails_with_the_record_to_publish(
        self, tmp_path, dns_server, rsa_key
    ):
        path = self.write_key(tmp_path / "dkim.pem", rsa_key)
        other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        dns_server.records[self.NAME] = [f"v=DKIM1; k=rsa; p={self.published(other)}".encode()]
        check = doctor.check_dkim(self.config(path), dns_server.resolver())
        assert check.status == doctor.FAIL
        assert check.fix == (
            f'publish {self.NAME} TXT "v=DKIM1; k=rsa; p={self.published(rsa_key)}"'
        )

    def test_no_record_fails(self, tmp_path, dns_server, rsa_key):
        path = self.write_key(tmp_path / "dkim.pem", rsa_key)
        check = doctor.check_dkim(self.config(path), dns_server.resolver())
        assert (check.status, check.detail) == (doctor.FAIL, f"no TXT record at {self.NAME}")

    def test_no_resolver_answering_is_a_warning(self, tmp_path, rsa_key):
        import dns.resolver

        path = self.write_key(tmp_path / "dkim.pem", rsa_key)
        silent = dns.resolver.Resolver(configure=False)
        silent.nameservers, silent.port, silent.lifetime = ["127.0.0.1"], free_port(), 1
        check = doctor.check_dkim(self.config(path), silent)
        assert check.status == doctor.WARN
        assert check.detail.startswith(f"could not check {self.NAME}")

    def test_half_configured_fails(self, tmp_path):
        check = doctor.check_dkim({"DKIM_DOMAIN": self.DOMAIN}, None)
        assert (check.status, check.detail) == (
            doctor.FAIL,
            "DKIM_SELECTOR, DKIM_PRIVATE_KEY_PATH not set",
        )

    def test_an_unreadable_key_fails(self, tmp_path, dns_server):
        (tmp_path / "dkim.pem").write_text("not a key")
        check = doctor.check_dkim(self.config(tmp_path / "dkim.pem"), dns_server.resolver())
        assert check.status == doctor.FAIL
        assert "cannot read" in check.detail


def latest_revision(app) -> str:
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return ScriptDirectory.from_config(config).get_current_head()

"""The scripts docs/deploy.md has operators run, run here as it says: convoca-flask with the
example env file, postgres-setup.sh against the real PostgreSQL, backup.sh on both
databases, and a pg_dump backup restored with the docs' pg_restore line."""

from __future__ import annotations

import getpass
import os
import re
import stat
import time
import uuid

import dkim
import pytest
import sqlalchemy as sa

from service import create_app
from service.demo import DEMO_EVENT_SLUG
from service.mail import signing
from tests.conftest import POSTGRES_ADMIN_URL, base_config, close_database, make_database
from tests.deploy.conftest import DEPLOY, read_env_file, require_tool, run, write_env_file
from tests.mail.test_dkim import published_dns
from tests.server import PROJECT_ROOT, flask_command, run_flask, server_env


def convoca_flask(env_file, *args: str):
    """deploy/convoca-flask as an operator runs it (as this user: there is no convoca here)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONVOCA_")}
    env.update(
        CONVOCA_ENV_FILE=str(env_file),
        CONVOCA_APP_DIR=str(PROJECT_ROOT),
        CONVOCA_USER=getpass.getuser(),
    )
    return run([str(DEPLOY / "convoca-flask"), *args], env=env)


def test_convoca_flask_runs_the_docs_commands_with_the_example_env_file(tmp_path, smtp):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o750)  # install -d -m 0750 /var/lib/convoca
    env_file = write_env_file(
        tmp_path / "convoca.env",
        f"sqlite:///{instance / 'convoca.sqlite'}",
        instance,
        CONVOCA_MAIL_SERVER="127.0.0.1",  # the relay: an SMTP sink on loopback
        CONVOCA_MAIL_PORT=str(smtp.port),
        CONVOCA_MAIL_USE_TLS="false",
        CONVOCA_MAIL_USERNAME=None,
        CONVOCA_MAIL_PASSWORD=None,
    )
    convoca_flask(env_file, "db", "upgrade")
    convoca_flask(env_file, "demo", "load")  # registers the demo's people: mail to send
    keygen = convoca_flask(env_file, "mail", "dkim-keygen", "--selector", "2027")
    key = read_env_file(env_file)["CONVOCA_DKIM_PRIVATE_KEY_PATH"]
    assert f"wrote the private key to {key}" in keygen.stdout
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    record = signing.DNSRecord(
        re.search(r"name:  (\S+)", keygen.stdout).group(1),
        re.search(r"value: (.+)", keygen.stdout).group(1),
    )
    assert record.name == "2027._domainkey.example.org"

    assert "pending  confirmation" in convoca_flask(env_file, "mail", "status").stdout
    sent = convoca_flask(env_file, "mail", "send-due").stdout
    assert sent.startswith(f"sent {len(smtp.raw)}, retrying later 0, failed 0")
    assert smtp.raw
    # Every message arrived signed, and checks against the record keygen told us to publish.
    assert all(dkim.verify(raw, dnsfunc=published_dns(record)) for raw in smtp.raw)

    backups = tmp_path / "backups"
    backups.mkdir()
    written = re.search(r"wrote (\S+)", convoca_flask(env_file, "backup", str(backups)).stdout)
    check = convoca_flask(env_file, "backup", "--check", written.group(1))
    assert check.stdout.count("ok  ") == 2


def sqlite_site(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = server_env(f"sqlite:///{instance / 'convoca.sqlite'}", instance)
    run_flask(["db", "upgrade"], env)
    run_flask(["demo", "load"], env)
    return env


def test_the_backup_script_copies_sqlite_and_keeps_the_newest(tmp_path):
    env = sqlite_site(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    env.update(BACKUP_DIR=str(backups), BACKUP_KEEP="2", FLASK=flask_command("flask")[0])
    for _ in range(3):
        result = run([str(DEPLOY / "backup.sh")], env=env, cwd=PROJECT_ROOT)
        assert result.stdout.count("ok  ") == 2
        time.sleep(1.1)  # backups are named to the second
    copies = sorted(backups.iterdir())
    assert len(copies) == 2
    assert all(stat.S_IMODE(copy.stat().st_mode) == 0o600 for copy in copies)


@pytest.fixture
def postgresql_site(tmp_path):
    require_tool("pg_dump")
    database = make_database("postgresql", tmp_path)
    try:
        env = server_env(database.url, tmp_path)
        run_flask(["db", "upgrade"], env)
        run_flask(["demo", "load"], env)
        yield env
    finally:
        database.drop()


def test_a_pg_dump_backup_restores_with_the_docs_pg_restore_line(tmp_path, postgresql_site):
    backups = tmp_path / "backups"
    backups.mkdir()
    env = {**postgresql_site, "BACKUP_DIR": str(backups), "BACKUP_KEEP": "1"}
    for _ in range(2):
        assert "wrote " in run([str(DEPLOY / "backup.sh")], env=env).stdout
        time.sleep(1.1)
    [dump] = list(backups.iterdir())  # the older one went
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600

    restored = make_database("postgresql", tmp_path)
    try:
        url = sa.make_url(restored.url)
        run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--host={url.host}",
             f"--port={url.port}", f"--username={url.username}", f"--dbname={url.database}",
             str(dump)]
        )  # fmt: skip
        site = create_app(base_config(restored.url))
        try:
            page = site.test_client().get(f"/events/{DEMO_EVENT_SLUG}")
            assert page.status_code == 200
            assert "Bolivia" in page.get_data(as_text=True)
        finally:
            close_database(site)
    finally:
        restored.drop()


def test_postgres_setup_makes_a_role_that_owns_its_database_and_nothing_more(tmp_path):
    require_tool("createuser")
    admin_url = sa.make_url(POSTGRES_ADMIN_URL)
    name = f"convoca_setup_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PGHOST": admin_url.host,
        "PGPORT": str(admin_url.port),
        "PGUSER": admin_url.username,
        "DB_USER": name,
        "DB_NAME": name,
    }
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        result = run([str(DEPLOY / "postgres-setup.sh")], env=env)
        [line] = result.stdout.splitlines()
        assert line == f"DATABASE_URL=postgresql+psycopg://{name}@{admin_url.host}/{name}"
        database_url = line.removeprefix("DATABASE_URL=").replace(
            f"@{admin_url.host}/", f"@{admin_url.host}:{admin_url.port}/"
        )
        run_flask(["db", "upgrade"], server_env(database_url, tmp_path))  # as the new role
        with admin.connect() as connection:
            role = connection.execute(
                sa.text("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                        "WHERE rolname = :name"), {"name": name},
            ).one()  # fmt: skip
        assert tuple(role) == (False, False, False)
        tables = sa.create_engine(admin_url.set(database=name))
        with tables.connect() as connection:
            owners = set(connection.scalars(
                sa.text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
            ))  # fmt: skip
        tables.dispose()
        assert owners == {name}  # the migrations ran as the new role, in its own database
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


SCRIPTS = sorted(
    path for path in DEPLOY.iterdir() if path.is_file() and path.read_text().startswith("#!/bin/sh")
)


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_each_script_passes_shellcheck(script):
    require_tool("shellcheck")
    assert os.access(script, os.X_OK), f"{script.name} is not executable"
    run(["shellcheck", "--shell=sh", str(script)])

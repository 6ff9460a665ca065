"""Fixtures shared by every test area.

Every test that uses ``app`` runs twice: on SQLite and on PostgreSQL (127.0.0.1:5432 on every
machine here). Each pytest worker gets its own databases, migrated once with the real
migrations; after each test the tables are emptied, so tests may commit like the app does.
Under CI a PostgreSQL that cannot be reached fails the run instead of skipping.

What keeps the suite quick: test databases do not wait for the disk at each commit (nothing
here needs to survive a power cut), the apps of one worker share their compiled templates,
and passwords are hashed with the lightest Argon2id.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from service import PROJECT_ROOT, create_app
from service.extensions import db

pytest_plugins = [
    "tests.events.fixtures",
    "tests.mail.fixtures",
    "tests.registration.fixtures",
    "tests.statements.fixtures",
]

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=(*BACKENDS, "all"),
        default=os.environ.get("TEST_DATABASES", "all"),
        help="database(s) to run the suite on (default: all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Compile translation catalogues edited since their last build (``make`` does the same)."""
    if hasattr(config, "workerinput"):
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (PROJECT_ROOT / "service" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as po_file:
                catalogue = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalogue)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        backends = BACKENDS if chosen == "all" else (chosen,)
        metafunc.parametrize("database_backend", backends, scope="session")


@pytest.fixture(scope="session", autouse=True)
def own_instance_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A temporary instance folder for the whole run: tests never read a developer's
    instance/config.py, nor write their .eml files into (or sweep) its outbox."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        yield


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    """Test databases commit without waiting for the disk: the same rows, locks and WAL, only
    not durable through a power cut. (PostgreSQL's: ``synchronous_commit`` off.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF").close()


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI and cannot be reached: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


class TestDatabase:
    """A database of this worker's own, created and dropped by the test session."""

    def __init__(self, backend: str, tmp_dir: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_dir / 'convoca-test.sqlite'}"
            self._name = None
        else:
            self._name = f"convoca_test_{uuid.uuid4().hex[:12]}"
            self.url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self._name}"

    def create(self) -> None:
        if self._name:
            try:
                admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(sa.text(f'CREATE DATABASE "{self._name}"'))
                    connection.execute(
                        sa.text(f'ALTER DATABASE "{self._name}" SET synchronous_commit TO off')
                    )
                admin.dispose()
            except sa.exc.OperationalError as error:
                _postgres_unavailable(str(error).splitlines()[0])

    def drop(self) -> None:
        if self._name:
            admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
            admin.dispose()


def make_database(backend: str, tmp_dir: Path) -> TestDatabase:
    """A new, empty database on ``backend``; the caller drops it."""
    database = TestDatabase(backend, tmp_dir)
    database.create()
    return database


def base_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "PAGE_CACHE_SECONDS": 0,  # tests see every change at once; test_page_cache tests it
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "https://events.example.org",
        "SESSION_COOKIE_SECURE": False,
        # The lightest Argon2id: the suite makes and logs in thousands of accounts (the full
        # cost is tested in tests/organisers/test_login.py and test_second_factor.py).
        "TEST_FAST_PASSWORD_HASHING": True,
        **overrides,
    }


@pytest.fixture(scope="session")
def migrated_database(
    database_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    """This worker's database on ``database_backend``, migrated with ``flask db upgrade``."""
    from flask_migrate import upgrade

    database = make_database(database_backend, tmp_path_factory.mktemp(database_backend))
    app = create_app(base_config(database.url))
    with app.app_context():
        upgrade()
    close_database(app)
    yield database
    database.drop()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra configuration for ``app``; override in a test module to change settings."""
    return {}


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per worker, not once per test's app: Jinja's bytecode cache,
    kept in memory. A bucket's key includes its source's checksum, so an edit recompiles."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


@pytest.fixture
def app(migrated_database: TestDatabase, app_config: dict[str, Any]) -> Iterator[Flask]:
    """The app on this run's database. No app context is pushed, so each request of the
    test client gets its own session, as in production; see ``app_context``."""
    app = create_app(base_config(migrated_database.url, **app_config))
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
    close_database(app)


def close_database(app: Flask) -> None:
    """Close every connection ``app`` holds, so none is left for the garbage collector."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    """For tests that call services directly; don't mix with ``client`` in one test."""
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()

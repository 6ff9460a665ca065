"""Declarative base, the UTC datetime column type and per-connection database settings."""

from __future__ import annotations

import enum
import sqlite3
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import CheckConstraint, Connection, DateTime, Engine, Enum, MetaData, String, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, registry, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware, in UTC.

    Naive datetimes are refused: a time without a zone is a bug waiting for a DST change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        utc_value = value.astimezone(UTC)
        return utc_value.replace(tzinfo=None) if dialect.name == "sqlite" else utc_value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Str200 = Annotated[str, mapped_column(String(200))]
Str500 = Annotated[str, mapped_column(String(500))]


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def conflict_insert(session: Session | scoped_session[Session], entity: Any) -> Any:
    """``INSERT`` for the session's database with its ``ON CONFLICT`` clauses (PostgreSQL's
    and SQLite's are spelt alike): ``.on_conflict_do_nothing()`` or ``…do_update()``."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(entity)


def not_blank(*columns: str) -> tuple[CheckConstraint, ...]:
    """CHECK constraints that ``columns`` hold more than spaces: the forms refuse blank input,
    and the database refuses it from any other path (``ck_<table>_<column>_not_blank``).
    On SQLite, migration 0008 enforces the same rule with triggers."""
    return tuple(
        CheckConstraint(f"trim({column}) <> ''", name=f"{column}_not_blank") for column in columns
    )


class Localised:
    """A model whose texts may have a Spanish version in a ``<field>_es`` column."""

    def localised(self, field: str, language: str) -> str:
        """The Spanish text where given and asked for, else the English one."""
        if language == "es":
            translated = getattr(self, f"{field}_es")
            if translated:
                return translated
        return getattr(self, field)


def enum_column(enum_class: type[enum.Enum], *, constraint: bool = True) -> Enum:
    """Store enum values (not names) as strings, portable across databases.

    ``constraint=False`` leaves out the CHECK, for lists that grow without a migration.
    """
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=constraint,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, a busy timeout instead of instant lock errors, real FKs.

    pysqlite's own transaction handling is turned off (SQLAlchemy's documented recipe) so that
    ``_begin_sqlite`` decides how each transaction begins.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    # SQLite's own lower() folds only A-Z; searches must find "Ñusta" when typed "ñusta".
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={DEFAULT_LOCK_WAIT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten values are zeroed in the file, not left in its free space:
    # personal data removed must not stay readable in instance/convoca.sqlite.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def empty_write_ahead_log(engine: Engine) -> None:
    """On SQLite, copy the write-ahead log into the database and truncate it, after removing
    personal data: the log still holds the pages as they were written. Best effort (a reader
    in the middle of a transaction holds it back until the next time); nothing to do on
    PostgreSQL. Outside any transaction, on a connection of its own."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    finally:
        connection.close()


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        options = connection.get_execution_options()
        mode = options.get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode == "IMMEDIATE":
            _begin_immediate(
                connection.connection.driver_connection,
                options.get(LOCK_WAIT_OPTION, DEFAULT_LOCK_WAIT_MS) / 1000,
            )
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")


def _begin_immediate(sqlite_connection: sqlite3.Connection, wait_seconds: float) -> None:
    """``BEGIN IMMEDIATE``, trying again after short pauses until ``wait_seconds`` have passed.

    SQLite's own busy handler (``busy_timeout``) first sleeps 1 ms, then 2, 5, 10… up to
    100 ms between tries, while a registration holds the write lock for well under a
    millisecond plus its commit: a worker could sleep on while the database was free. Here
    the pauses start at 0.1 ms and never pass 2 ms. Raises SQLAlchemy's ``OperationalError``
    ("database is locked") when the lock is still held at the end, as the busy timeout did.
    """
    deadline = time.monotonic() + wait_seconds
    pause = FIRST_PAUSE_SECONDS
    sqlite_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                sqlite_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # or BUSY_RECOVERY…
                if not busy or time.monotonic() >= deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
            pause = min(pause * 2, LAST_PAUSE_SECONDS)
    finally:  # later statements and transactions on this connection wait as usual
        sqlite_connection.execute(f"PRAGMA busy_timeout={DEFAULT_LOCK_WAIT_MS}")


DEFAULT_LOCK_WAIT_MS = 5000
FIRST_PAUSE_SECONDS, LAST_PAUSE_SECONDS = 0.0001, 0.002
SQLITE_BEGIN_OPTION = "convoca_sqlite_begin"
LOCK_WAIT_OPTION = "convoca_lock_wait_ms"


def begin_writing(
    session: Session | scoped_session[Session], wait_seconds: float | None = None
) -> None:
    """Start the session's transaction holding the database's write lock.

    Call it first in a unit of work that reads and then writes. On SQLite this is BEGIN
    IMMEDIATE: a transaction that reads first and writes later can fail with "database is
    locked" despite the busy timeout. PostgreSQL needs nothing here (lock rows instead).
    A transaction already open (a view's reads) is committed first: it has nothing to lose.
    ``wait_seconds`` bounds how long this transaction waits for any lock, on both databases
    (SQLite's busy timeout for the BEGIN, PostgreSQL's ``lock_timeout`` for the row locks).
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        if _only_read(session):
            # Keep the connection: commit the reads on it and go on in a new transaction,
            # rather than hand it back to the pool (a rollback on return, a ping on the next
            # checkout) to get it again. Nothing loaded can go stale: the session holds no
            # objects, and SQLAlchemy's transaction simply ends with the new one.
            connection = session.connection()
            driver_connection = connection.connection.driver_connection
            if connection.dialect.name == "sqlite":
                driver_connection.execute("COMMIT")
                _begin_immediate(
                    driver_connection,
                    DEFAULT_LOCK_WAIT_MS / 1000 if wait_seconds is None else wait_seconds,
                )
                return
            driver_connection.commit()  # psycopg begins the next transaction by itself
            _set_lock_timeout(connection, wait_seconds)
            return
        session.commit()
    options: dict[str, Any] = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
    if wait_seconds is not None:
        options[LOCK_WAIT_OPTION] = int(wait_seconds * 1000)
    _set_lock_timeout(session.connection(execution_options=options), wait_seconds)


def _set_lock_timeout(connection: Connection, wait_seconds: float | None) -> None:
    if wait_seconds is not None and connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(wait_seconds * 1000)}ms'")


def _only_read(session: Session) -> bool:
    """Whether the session's open transaction is its own (not a test's outer transaction or
    a savepoint), on SQLite or PostgreSQL, and has only read rows it does not hold (Core
    queries): nothing to flush, nothing to expire."""
    bind = session.get_bind()
    transaction = session.get_transaction()
    return (
        isinstance(bind, Engine)
        and bind.dialect.name in ("sqlite", "postgresql")
        and transaction is not None
        and not transaction.nested
        and not (session.new or session.dirty or session.deleted or session.identity_map)
    )


def render_migration_type(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Write ``UTCDateTime`` columns into migrations as the plain type they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False

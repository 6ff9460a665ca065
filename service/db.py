"""Declarative base, the UTC datetime column type and per-connection database settings."""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import CheckConstraint, Connection, DateTime, Engine, Enum, MetaData, String, event
from sqlalchemy.dialects import postgresql, sqlite
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


def enum_column(
    enum_class: type[enum.Enum], *, constraint: bool = True, name: str | None = None
) -> Enum:
    """Store enum values (not names) as strings, portable across databases.

    ``constraint=False`` leaves out the CHECK, for lists that grow without a migration;
    ``name`` names the CHECK when a second column of a table takes the same enum.
    """
    return Enum(
        enum_class,
        name=name or enum_class.__name__.lower(),
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
    """SQLAlchemy's documented recipe: emit SQLite's BEGIN ourselves, ``IMMEDIATE`` (the write
    lock first) when the connection asks for it, waiting up to its lock wait for the lock."""
    if connection.dialect.name != "sqlite":
        return
    options = connection.get_execution_options()
    if options.get(SQLITE_BEGIN_OPTION) != "IMMEDIATE":
        connection.exec_driver_sql("BEGIN")
        return
    wait_ms = options.get(LOCK_WAIT_OPTION)
    if wait_ms is None or wait_ms == DEFAULT_LOCK_WAIT_MS:  # the connection's own timeout
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={DEFAULT_LOCK_WAIT_MS}")


DEFAULT_LOCK_WAIT_MS = 5000
SQLITE_BEGIN_OPTION = "convoca_sqlite_begin"
LOCK_WAIT_OPTION = "convoca_lock_wait_ms"
_IN_UNIT_OF_WORK = "convoca_unit_of_work"


class UnsavedChanges(RuntimeError):
    """A unit of work was asked to begin while the session held changes made outside one."""


_FLUSHED = "convoca_flushed"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    """Remember that the open transaction has written, so ``begin_writing`` can tell."""
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_flush(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction ended: committed or rolled back
        session.info.pop(_FLUSHED, None)


@contextmanager
def unit_of_work(lock_wait: float | None = None) -> Iterator[Session]:
    """One unit of work: begin holding the database's write lock, commit at the end, roll
    back on any error. Every public write of every area runs in one; nothing else commits.

    On SQLite the transaction begins with ``BEGIN IMMEDIATE`` (a transaction that reads
    first and writes later can otherwise fail with "database is locked" despite the busy
    timeout); PostgreSQL needs nothing here: lock the rows you count (``with_for_update``).
    ``lock_wait`` bounds how long this unit waits for any lock, on both databases (SQLite's
    busy timeout for the BEGIN, PostgreSQL's ``lock_timeout`` for row locks).

    A unit opened inside another joins it: the outer one commits or rolls back the whole.
    """
    from service.extensions import db  # extensions imports this module

    session = db.session()
    if session.info.get(_IN_UNIT_OF_WORK):
        yield session
        return
    begin_writing(session, lock_wait)
    session.info[_IN_UNIT_OF_WORK] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_IN_UNIT_OF_WORK, None)


def begin_writing(
    session: Session | scoped_session[Session], wait_seconds: float | None = None
) -> None:
    """Start the session's transaction holding the write lock (see ``unit_of_work``, which
    calls it). A transaction the session already has open may only have read: it is ended
    first. Changes made outside a unit, flushed or not, are refused, never committed behind
    their owner's back."""
    if isinstance(session, scoped_session):
        session = session()
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
        raise UnsavedChanges("changes made outside a unit of work; make them inside one")
    if session.in_transaction():
        session.commit()  # only reads: nothing is written, the connection goes back
    options: dict[str, Any] = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
    if wait_seconds is not None:
        options[LOCK_WAIT_OPTION] = int(wait_seconds * 1000)
    connection = session.connection(execution_options=options)
    if wait_seconds is not None and connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(wait_seconds * 1000)}ms'")


def render_migration_type(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Write ``UTCDateTime`` columns into migrations as the plain type they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False

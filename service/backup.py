"""``flask backup``: a consistent copy of a SQLite database while the site runs, and a check
that a copy would restore.

The copy goes through SQLite's online backup API in a single step: one read transaction, so
it is the database as of one commit, and in WAL mode the workers go on writing meanwhile.
A plain ``cp`` of a live database can miss what is still in the ``-wal`` file, or catch a
page half written. PostgreSQL has ``pg_dump`` for this; we only say how to call it.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import make_url

from service.extensions import db

BACKUP_PREFIX = "convoca-"
BACKUP_SUFFIX = ".sqlite"


class BackupError(Exception):
    """The backup cannot be taken; the message says why and what to do instead."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def backup_database(target: Path, now: datetime, keep: int | None = None) -> Path:
    """Copy the site's SQLite database to ``target`` (a new file, or a folder to hold a
    timestamped one), readable by its owner only; returns the file written.

    In a folder, ``keep`` removes the oldest of our backups there beyond that many.
    """
    source_path = sqlite_database_path()
    if target.is_dir():
        folder = target
        target = folder / f"{BACKUP_PREFIX}{now:%Y%m%d-%H%M%S}{BACKUP_SUFFIX}"
    elif keep is not None:
        raise BackupError("--keep needs a folder to write the backup into, not a file name")
    if target.exists():
        raise BackupError(f"{target} exists: a backup never replaces another file")
    if not source_path.is_file():
        raise BackupError(f"there is no database at {source_path}")
    # Personal data: the copy is made for our user alone (mode 0600) before a byte is written,
    # under a name of its own until it is complete.
    descriptor, partial_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
    )
    os.close(descriptor)
    partial = Path(partial_name)
    try:
        source = sqlite3.connect(source_path, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # every page in one step: a snapshot as of one commit
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
        finally:
            copy.close()
            source.close()
        os.link(partial, target)  # fails if a file took the name meanwhile: never replaced
    except FileExistsError:
        raise BackupError(f"{target} exists: a backup never replaces another file") from None
    finally:
        partial.unlink(missing_ok=True)
    if keep is not None:
        _remove_old_backups(target.parent, keep)
    return target


def _remove_old_backups(folder: Path, keep: int) -> None:
    ours = sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))  # timestamps sort by age
    for old in ours[: max(len(ours) - keep, 0)]:
        old.unlink()


def sqlite_database_path() -> Path:
    """The site's database file; raises ``BackupError`` saying what to run on PostgreSQL."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        raise BackupError(
            "the database is PostgreSQL: back it up with pg_dump, e.g.\n  "
            + pg_dump_command(url.render_as_string(hide_password=True))
        )
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(f"cannot back up {url.render_as_string(hide_password=True)}")
    return Path(url.database)


def pg_dump_command(database_url: str) -> str:
    """A pg_dump command line for the database at ``database_url`` (no password in it: pg_dump
    reads ~/.pgpass or PGPASSWORD)."""
    url = make_url(database_url)
    options = [f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}"]
    if url.username:
        options.append(f"--username={url.username}")
    stamp = "$(date +%Y%m%d-%H%M%S)"
    return (
        f"pg_dump --format=custom {' '.join(options)} "
        f"--file=/var/backups/convoca/convoca-{stamp}.dump {url.database}"
    )


def check_backup(path: Path) -> list[Check]:
    """Whether the copy at ``path`` would restore: readable, intact, and migrated to the
    revision this code expects."""
    if not path.is_file():
        return [Check("file", False, f"{path} is not a file")]
    try:
        # immutable: nothing else writes a backup, and checking must not write beside it.
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as error:
        return [Check("file", False, str(error))]
    try:
        return [_check_integrity(connection), _check_revision(connection)]
    finally:
        connection.close()


def _check_integrity(connection: sqlite3.Connection) -> Check:
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return Check("integrity", False, str(error))
    if problems == ["ok"]:
        return Check("integrity", True, "PRAGMA integrity_check: ok")
    return Check("integrity", False, "; ".join(problems[:5]))


def _check_revision(connection: sqlite3.Connection) -> Check:
    head = migrations_head()
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        revisions = [row[0] for row in rows]
    except sqlite3.DatabaseError as error:
        return Check("revision", False, f"no migration revision: {error}")
    if revisions == [head]:
        return Check("revision", True, f"at the migrations' head, {head}")
    found = ", ".join(revisions) or "none"
    return Check("revision", False, f"at {found}, but this code's migrations are at {head}")


def migrations_head() -> str | None:
    directory = current_app.extensions["migrate"].directory
    return ScriptDirectory(directory).get_current_head()

"""Baseline for bench/registration.py: a naive Flask-SQLAlchemy app that stores a registration.

``POST /register`` inserts one row (name, email) and commits, then answers 302; no CSRF, no
validation, no mail. ``GET /`` answers "ok" (the readiness check) and ``GET /settings`` the
SQLite settings a connection has, so the benchmark can show both apps used the same ones.

The database is ``BENCH_NAIVE_DATABASE_URL`` (in-memory SQLite when unset). On SQLite each
connection gets the pragmas in ``BENCH_NAIVE_SQLITE_PRAGMAS`` (JSON, name to value), which the
benchmark reads from a connection of our app first; without it, those ``service/db.py``'s
``_configure_sqlite`` sets: WAL, a 5 s busy timeout, foreign keys on, synchronous left at its
default (FULL). Transactions are pysqlite's own (a deferred BEGIN before the INSERT), where
ours start with BEGIN IMMEDIATE: for a lone INSERT both take the write lock at once.

Served by ``gunicorn -w 2 -k sync --chdir bench registration_naive_app:app``; the table is made
by ``create_table()`` before. Running this file directly (``make bench`` runs every
``bench/*.py``) does nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from flask import Flask, redirect, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, String, event, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.wrappers import Response

# The pragmas of service/db.py's _configure_sqlite, in the same order, unless given.
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=5000", "foreign_keys=ON")
if os.environ.get("BENCH_NAIVE_SQLITE_PRAGMAS"):
    _given = json.loads(os.environ["BENCH_NAIVE_SQLITE_PRAGMAS"])
    _first = ("journal_mode", "locking_mode")  # before anything else touches the file
    SQLITE_PRAGMAS = tuple(
        f"{name}={_given[name]}"
        for name in sorted(_given, key=lambda name: (name not in _first, name))
    )


class Base(DeclarativeBase):
    pass


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("BENCH_NAIVE_DATABASE_URL", "sqlite://")
db = SQLAlchemy(app, model_class=Base)


class NaiveRegistration(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "naive_registrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@app.get("/")
def ready() -> str:
    return "ok"


@app.post("/register")
def register() -> Response:
    db.session.add(
        NaiveRegistration(name=request.form.get("name", ""), email=request.form.get("email", ""))
    )
    db.session.commit()
    return redirect("/registered")


@app.get("/settings")
def settings() -> dict[str, Any]:
    return sqlite_settings(db.session) if db.engine.dialect.name == "sqlite" else {}


def sqlite_settings(session: Any) -> dict[str, Any]:
    """What a connection of this session runs with, for the benchmark's report."""
    names = [pragma.split("=")[0] for pragma in SQLITE_PRAGMAS]
    if "synchronous" not in names:
        names.append("synchronous")
    return {name: session.execute(text(f"PRAGMA {name}")).scalar() for name in names}


def create_table() -> None:
    with app.app_context():
        db.create_all()


def count_rows() -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(NaiveRegistration)) or 0

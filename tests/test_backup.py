"""``flask backup``: a copy taken while people register restores to a working site; a damaged
copy fails ``--check``; PostgreSQL is pointed at pg_dump."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest

from service import create_app
from service.backup import backup_database
from service.extensions import db
from service.registration import service as registration
from service.registration.service import Attendee, TryAgain
from tests.conftest import base_config, close_database

START = datetime(2031, 5, 12, 17, 30, tzinfo=UTC)
BACKUPS = 3


@pytest.fixture
def sqlite_only(database_backend):
    if database_backend != "sqlite":
        pytest.skip("SQLite's online backup; PostgreSQL is backed up with pg_dump")


@pytest.fixture
def event(make_event):
    return make_event(
        slug="backup-meeting",
        capacity=100_000,
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=2)).isoformat(),
    )


def rows_in(path) -> tuple[set[str], int]:
    """The registered addresses in the SQLite file at ``path``, and its outbox's size."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        emails = {email for (email,) in connection.execute("SELECT email FROM registrations")}
        [(outbox,)] = connection.execute("SELECT count(*) FROM outbox")
    connection.close()
    return emails, outbox


def test_a_backup_taken_while_people_register_restores_to_a_working_site(
    app, runner, event, tmp_path, sqlite_only
):
    committed: list[str] = []
    stop, started = threading.Event(), threading.Event()

    def register_people() -> None:
        with app.app_context():
            number = 0
            while not stop.is_set() and number < 5000:
                email = f"person{number}@example.org"
                try:
                    registration.register(
                        event.slug, Attendee(f"Person {number}", email), "en", datetime.now(UTC)
                    )
                except TryAgain:
                    continue
                committed.append(email)
                number += 1
                if number == 20:
                    started.set()

    stream = threading.Thread(target=register_people)
    stream.start()
    windows = []
    try:
        assert started.wait(60), "registrations did not start"
        for index in range(BACKUPS):
            before = len(committed)
            result = runner.invoke(args=["backup", str(tmp_path / f"copy{index}.sqlite")])
            windows.append((before, len(committed)))
            assert result.exit_code == 0, result.output
            assert "ok    integrity" in result.output and "ok    revision" in result.output
    finally:
        stop.set()
        stream.join(60)
    assert sum(after - before for before, after in windows) > 0, "nobody registered meanwhile"

    for index, (before, _after) in enumerate(windows):
        copy = tmp_path / f"copy{index}.sqlite"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        emails, outbox = rows_in(copy)
        # Everyone who had registered when the backup began is in it, nobody invented, and
        # each registration with its confirmation: the copy is the database at one commit.
        assert set(committed[:before]) <= emails <= set(committed)
        assert outbox == len(emails)

    # Restoring is putting the copy in the database's place.
    restored = tmp_path / "restored.sqlite"
    shutil.copyfile(tmp_path / "copy0.sqlite", restored)
    site = create_app(base_config(f"sqlite:///{restored}"))
    try:
        page = site.test_client().get("/events/backup-meeting")
        assert page.status_code == 200
        assert "Solidarity meeting" in page.get_data(as_text=True)
        with site.app_context():
            assert registration.confirmed_count(event.id) == len(rows_in(restored)[0]) >= 20
    finally:
        close_database(site)
    result = runner.invoke(args=["backup", "--check", str(restored)])
    assert result.exit_code == 0, result.output


def damage_truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damage_a_page(path) -> None:
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size * 2 : page_size * 4] = b"\xa5" * (page_size * 2)
    path.write_bytes(bytes(data))


def damage_the_header(path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))


def roll_back_the_revision(path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0006'")
    connection.close()


@pytest.mark.parametrize(
    ("damage", "failure"),
    [
        (damage_truncate, "fail  integrity"),
        (damage_a_page, "fail  integrity"),
        (damage_the_header, "fail  "),
        (roll_back_the_revision, "fail  revision: at 0006, but this code's migrations are at"),
    ],
)
def test_a_damaged_copy_fails_the_check(app, runner, event, tmp_path, sqlite_only, damage, failure):
    with app.app_context():
        for number in range(30):
            registration.register(
                event.slug, Attendee("Someone", f"s{number}@example.org"), "en", datetime.now(UTC)
            )
    copy = tmp_path / "copy.sqlite"
    assert runner.invoke(args=["backup", str(copy)]).exit_code == 0
    assert runner.invoke(args=["backup", "--check", str(copy)]).exit_code == 0
    damage(copy)
    result = runner.invoke(args=["backup", "--check", str(copy)])
    assert result.exit_code == 1
    assert failure in result.output


def test_a_missing_copy_fails_the_check(app, runner, tmp_path):
    result = runner.invoke(args=["backup", "--check", str(tmp_path / "nothing.sqlite")])
    assert result.exit_code == 1
    assert "fail  file" in result.output


def test_a_backup_never_replaces_a_file(app, runner, tmp_path, sqlite_only):
    existing = tmp_path / "existing.sqlite"
    existing.write_bytes(b"yesterday's backup")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0
    assert "exists" in result.output
    assert existing.read_bytes() == b"yesterday's backup"
    assert list(tmp_path.iterdir()) == [existing]  # no partial copy left behind


def test_a_folder_gets_timestamped_copies_and_keep_removes_the_oldest(
    app, app_context, tmp_path, sqlite_only
):
    written = [
        backup_database(tmp_path, datetime(2027, 1, day, 3, 0, tzinfo=UTC), keep=2)
        for day in (1, 2, 3)
    ]
    assert [path.name for path in written] == [
        "convoca-20270101-030000.sqlite",
        "convoca-20270102-030000.sqlite",
        "convoca-20270103-030000.sqlite",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "convoca-20270102-030000.sqlite",
        "convoca-20270103-030000.sqlite",
    ]


def test_on_postgresql_backup_says_to_use_pg_dump(app, runner, tmp_path, database_backend):
    if database_backend != "postgresql":
        pytest.skip("the PostgreSQL answer")
    with app.app_context():
        database = db.engine.url.database
    result = runner.invoke(args=["backup", str(tmp_path / "copy.dump")])
    assert result.exit_code != 0
    assert "pg_dump --format=custom --host=127.0.0.1 --port=5432 --username=postgres" in (
        result.output
    )
    assert result.output.rstrip().endswith(f".dump {database}")
    assert list(tmp_path.iterdir()) == []

"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service.db import render_migration_type
from service.extensions import db


def test_models_and_migrations_agree(app_context):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_item": render_migration_type}
        )
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_reaches_the_latest_revision(app_context):
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_0008_removes_blank_registrations_with_their_mail_and_keeps_the_rest(
    database_backend, tmp_path, capsys
):
    """Rows stored before names and emails had to be non-blank: removed, and counted."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from service import create_app
    from tests.conftest import base_config, close_database, make_database

    database = make_database(database_backend, tmp_path)
    try:
        app = create_app(base_config(database.url))
        with app.app_context():
            upgrade(revision="0007")
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO events (id, uid, slug, title, summary, description,"
                        " starts_at, ends_at, timezone, extra_timezones, format, venue, address,"
                        " join_url, waiting_list, status, organised_by, sequence, created_at,"
                        " updated_at) VALUES (1, 'u', 'e', 'E', '', '', :t, :end, 'UTC', '[]',"
                        " 'online', '', '', '', true, 'published', '', 0, :t, :end)"
                    ),
                    {"t": "2030-01-01 00:00:00+00:00", "end": "2030-01-01 02:00:00+00:00"},
                )
                for number, email in enumerate(["", "kept@example.org"], start=1):
                    connection.execute(
                        sa.text(
                            "INSERT INTO registrations (id, event_id, name, email, organisation,"
                            " language, status, keep_informed, link_secret, created_at)"
                            " VALUES (:id, 1, 'Someone', :email, '', 'en', 'confirmed', false,"
                            " 'x', :t)"
                        ),
                        {"id": number, "email": email, "t": "2030-01-01 00:00:00+00:00"},
                    )
                    connection.execute(
                        sa.text(
                            "INSERT INTO outbox (dedupe_key, kind, recipient, recipient_name,"
                            " language, template, params, subject, body_text, body_html,"
                            " reply_to, unsubscribe_url, attachments, status, attempts,"
                            " next_attempt_at, created_at, message_id, last_error)"
                            " VALUES (:key, 'confirmation', :email, '', 'en', 't', :params, '',"
                            " '', '', '', '', '[]', 'pending', 0, :t, :t, :key, '')"
                        ),
                        {
                            "key": f"k{number}",
                            "email": email or " ",
                            "params": f'{{"registration_id": {number}}}',
                            "t": "2030-01-01 00:00:00+00:00",
                        },
                    )
            upgrade(revision="0008")
            with db.engine.connect() as connection:
                emails = connection.scalars(sa.text("SELECT email FROM registrations")).all()
                mail = connection.scalars(sa.text("SELECT recipient FROM outbox")).all()
        assert emails == ["kept@example.org"]
        assert mail == ["kept@example.org"]
        assert "1 from registrations" in capsys.readouterr().err
        close_database(app)
    finally:
        database.drop()


def test_unsubscriptions_become_keyed_hashes(database_backend, tmp_path):
    """0009 turns each stored address into its keyed hash and drops the addresses."""
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from service import create_app
    from service.mail import service as mail
    from service.mail.models import MessageKind
    from tests.conftest import base_config, close_database, make_database

    database = make_database(database_backend, tmp_path)
    app = create_app(base_config(database.url))
    try:
        with app.app_context():
            upgrade(revision="0007")
            with db.engine.begin() as connection:
                for email, kind in [
                    ("ana.quispe@example.org", "reminder"),
                    ("ana.quispe@example.org", "announcement"),
                    ("rosa@example.org", "reminder"),
                ]:
                    connection.execute(
                        sa.text(
                            "INSERT INTO unsubscriptions (email, kind, created_at) "
                            "VALUES (:email, :kind, :at)"
                        ),
                        {"email": email, "kind": kind, "at": datetime(2026, 1, 1, tzinfo=UTC)},
                    )
            upgrade()
            columns = {
                column["name"] for column in sa.inspect(db.engine).get_columns("unsubscriptions")
            }
            assert "email" not in columns
            with db.engine.connect() as connection:
                stored = " ".join(
                    str(value)
                    for row in connection.execute(sa.text("SELECT * FROM unsubscriptions"))
                    for value in row
                )
            assert "example.org" not in stored
            assert mail.is_unsubscribed("Ana.Quispe@Example.org", MessageKind.REMINDER)
            assert mail.is_unsubscribed("ana.quispe@example.org", MessageKind.ANNOUNCEMENT)
            assert mail.is_unsubscribed("rosa@example.org", MessageKind.REMINDER)
            assert not mail.is_unsubscribed("rosa@example.org", MessageKind.ANNOUNCEMENT)
            db.session.remove()
            downgrade(revision="0007")  # the addresses cannot come back: the table empties
            with db.engine.connect() as connection:
                assert (
                    connection.execute(sa.text("SELECT count(*) FROM unsubscriptions")).scalar()
                    == 0
                )
    finally:
        close_database(app)
        database.drop()


def test_0013_words_take_their_signatures_list_state_and_give_it_back(database_backend, tmp_path):
    """0013 fills the copy of each signature's state on its words; its downgrade drops it."""
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from service import create_app
    from tests.conftest import base_config, close_database, make_database

    database = make_database(database_backend, tmp_path)
    app = create_app(base_config(database.url))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with app.app_context():
            upgrade(revision="0012")
            with db.engine.begin() as connection:
                tables = sa.MetaData()
                tables.reflect(connection, only=["statements", "signatures", "signature_words"])
                statements, signatures, words = (
                    tables.tables[name] for name in ("statements", "signatures", "signature_words")
                )
                connection.execute(
                    statements.insert(),
                    {"id": 1, "slug": "s", "title": "S", "summary": "", "body": "",
                     "status": "published", "open_for_signing": True, "requires_approval": False,
                     "signature_count": 1, "listed_count": 1, "created_at": at, "updated_at": at},
                )  # fmt: skip
                for number, (status, show_name, featured) in enumerate(
                    [("approved", True, True), ("approved", False, False), ("hidden", True, False)],
                    start=1,
                ):
                    connection.execute(
                        signatures.insert(),
                        {"id": number, "statement_id": 1, "name": f"Ana {number}",
                         "sort_key": f"ana {number}", "email": f"{number}@example.org",
                         "affiliation": "", "town": "", "country": "", "show_name": show_name,
                         "keep_informed": False, "language": "en", "status": status,
                         "featured": featured, "link_secret": "x", "created_at": at,
                         "confirmed_at": at},
                    )  # fmt: skip
                    connection.execute(
                        words.insert(), {"statement_id": 1, "word": "ana", "signature_id": number}
                    )
            upgrade()
            with db.engine.connect() as connection:
                rows = connection.execute(
                    sa.text(
                        "SELECT signature_id, listed, featured, confirmed_at, sort_key"
                        " FROM signature_words ORDER BY signature_id"
                    )
                ).all()
            assert [(row[0], bool(row[1]), bool(row[2]), row[4]) for row in rows] == [
                (1, True, True, "ana 1"),
                (2, False, False, "ana 2"),
                (3, False, False, "ana 3"),
            ]
            assert all(row[3] is not None for row in rows)
            downgrade(revision="0012")
            columns = {
                column["name"] for column in sa.inspect(db.engine).get_columns("signature_words")
            }
            assert columns == {"statement_id", "word", "signature_id"}
            db.session.remove()
    finally:
        close_database(app)


def test_0024_seals_second_factor_secrets_and_opens_them_again(database_backend, tmp_path):
    """0024 encrypts each stored TOTP secret; the app still checks codes against it; going
    back gives the plain secret again."""
    from datetime import UTC, datetime

    import pyotp
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from service import create_app
    from service.organisers import totp
    from service.organisers.models import Organiser
    from tests.conftest import base_config, close_database, make_database

    secret, now = pyotp.random_base32(), datetime.now(UTC)
    select_secret = sa.text("SELECT totp_secret FROM organisers")
    database = make_database(database_backend, tmp_path)
    app = create_app(base_config(database.url))
    try:
        with app.app_context():
            upgrade(revision="0023")
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO organisers (email, name, password_hash, is_admin, active, "
                        "session_key, created_at, totp_secret, totp_confirmed_at) VALUES "
                        "('rosa@example.org', 'Rosa', 'x', false, true, 'k', :at, :secret, :at)"
                    ),
                    {"at": now, "secret": secret},
                )
            upgrade()
            with db.engine.connect() as connection:
                assert secret not in connection.execute(select_secret).scalar_one()
            rosa = db.session.scalar(sa.select(Organiser))
            assert totp.verify(rosa, pyotp.TOTP(secret).now(), now)
            db.session.remove()
            downgrade(revision="0023")
            with db.engine.connect() as connection:
                assert connection.execute(select_secret).scalar_one() == secret
    finally:
        close_database(app)
        database.drop()

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

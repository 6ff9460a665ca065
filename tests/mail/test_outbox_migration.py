"""Migration 0012 fills the outbox's new columns for rows queued under the 0011 schema."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from service.extensions import db

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)

OLD_NOW = NOW.replace(tzinfo=None)
OLD_EVENT = {
    "uid": "u",
    "slug": "solidarity-meeting",
    "title": "E",
    "summary": "",
    "description": "",
    "starts_at": datetime(2027, 4, 19, 17, 30),
    "ends_at": datetime(2027, 4, 19, 19, 30),
    "timezone": "Europe/London",
    "extra_timezones": [],
    "format": "online",
    "venue": "",
    "address": "",
    "join_url": "",
    "waiting_list": True,
    "status": "published",
    "organised_by": "",
    "sequence": 3,
    "created_at": OLD_NOW,
    "updated_at": OLD_NOW,
    "attendee_reminder_offsets": [60],
    "speaker_reminder_offsets": [120],
    "speaker_arrival_minutes": 30,
    "speaker_notes": "",
    "reminder_note": "",
}
OLD_STATEMENT = {
    "slug": "s",
    "title": "S",
    "summary": "",
    "body": "B",
    "status": "published",
    "open_for_signing": True,
    "requires_approval": False,
    "signature_count": 1,
    "listed_count": 1,
    "created_at": OLD_NOW,
    "updated_at": OLD_NOW,
}
OLD_PERSON = {
    "name": "Ana",
    "email": "ana@example.org",
    "language": "en",
    "link_secret": "x",
    "created_at": OLD_NOW,
}


def insert_old_row(connection: sa.Connection, table_name: str, **values: object) -> int:
    """Insert into the table as the database has it now; returns the new row's id."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    json_columns = {"extra_timezones", "attendee_reminder_offsets", "speaker_reminder_offsets"}
    for name in json_columns & values.keys():
        table.c[name].type = sa.JSON()
    return connection.execute(table.insert().values(**values)).inserted_primary_key[0]


def old_outbox(row: dict) -> sa.TableClause:
    """The outbox as 0011 left it: the columns of ``row``."""
    json_columns = {"params", "attachments"}
    return sa.table(
        "outbox",
        *(sa.column(name, sa.JSON) if name in json_columns else sa.column(name) for name in row),
    )


def old_message(key: str, kind: str = "confirmation", **params: int) -> dict:
    return {
        "dedupe_key": key,
        "kind": kind,
        "recipient": "ana@example.org",
        "recipient_name": "Ana",
        "language": "en",
        "template": "mail/test_message",
        "params": params,
        "subject": "",
        "body_text": "",
        "body_html": "",
        "reply_to": "",
        "unsubscribe_url": "",
        "attachments": [],
        "message_id": f"<{key}@example.org>",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW.replace(tzinfo=None),
        "last_error": "",
        "created_at": NOW.replace(tzinfo=None),
    }


def test_0012_fills_what_each_old_message_is_about(database_backend, tmp_path):
    from flask_migrate import downgrade, upgrade

    from service import create_app
    from service.mail.models import OutboxMessage
    from tests.conftest import base_config, close_database, make_database

    database = make_database(database_backend, tmp_path)
    app = create_app(base_config(database.url))
    try:
        with app.app_context():
            upgrade(revision="0011")
            # Rows as 0011 stored them, written in SQL: today's models have columns it lacks.
            with db.engine.begin() as connection:
                e = insert_old_row(connection, "events", **OLD_EVENT)
                r = insert_old_row(
                    connection,
                    "registrations",
                    event_id=e,
                    **OLD_PERSON,
                    organisation="",
                    status="confirmed",
                    keep_informed=False,
                )
                a = insert_old_row(
                    connection,
                    "announcements",
                    event_id=e,
                    audience="registered",
                    subject="S",
                    body="B",
                    created_at=OLD_NOW,
                    recipients=0,
                )
                statement = insert_old_row(connection, "statements", **OLD_STATEMENT)
                s = insert_old_row(
                    connection,
                    "signatures",
                    statement_id=statement,
                    **OLD_PERSON,
                    sort_key="ana",
                    affiliation="",
                    town="",
                    country="",
                    show_name=True,
                    keep_informed=False,
                    status="approved",
                    featured=False,
                )
            gone = r + 1000  # a registration deleted since (it registered again)
            rows = [
                old_message(f"confirmation:{r}:2027-04-01T12:00:00+00:00", registration_id=r),
                old_message(
                    f"cancelled:{r}:2027-04-01T12:00:00+00:00", registration_id=r, event_id=e
                ),
                old_message(f"event_changed:{e}:3:{r}", "event_update"),
                old_message(f"reminder:{e}:20270419T1730Z:60:{r}", "reminder", event_id=e),
                old_message(f"speaker_reminder:{e}:20270419T1730Z:120:7", "speaker_reminder"),
                old_message(f"announcement:{a}:{r}", "announcement", announcement_id=a),
                old_message("test:abcdef", "test", event_id=e),
                old_message(f"signature:{s}:2027-04-01T12:00:00+00:00:x", "signature"),
                old_message(f"promoted:{gone}:2027-04-01T12:00:00+00:00", registration_id=gone),
                old_message("elsewhere:1"),
            ]
            db.session.remove()
            with db.engine.begin() as connection:
                connection.execute(old_outbox(rows[0]).insert(), rows)
            upgrade()
            found = {
                key: (event_id, registration_id, signature_id)
                for key, event_id, registration_id, signature_id in db.session.execute(
                    sa.select(
                        OutboxMessage.dedupe_key,
                        OutboxMessage.event_id,
                        OutboxMessage.registration_id,
                        OutboxMessage.signature_id,
                    )
                )
            }
            db.session.remove()
            downgrade(revision="0011")
            with db.engine.connect() as connection:
                outbox = sa.inspect(connection).get_columns("outbox")
                columns = {column["name"] for column in outbox}
        assert found == {
            f"confirmation:{r}:2027-04-01T12:00:00+00:00": (e, r, None),
            f"cancelled:{r}:2027-04-01T12:00:00+00:00": (e, r, None),
            f"event_changed:{e}:3:{r}": (e, r, None),
            f"reminder:{e}:20270419T1730Z:60:{r}": (e, r, None),
            f"speaker_reminder:{e}:20270419T1730Z:120:7": (e, None, None),
            f"announcement:{a}:{r}": (e, r, None),
            "test:abcdef": (e, None, None),
            f"signature:{s}:2027-04-01T12:00:00+00:00:x": (None, None, s),
            f"promoted:{gone}:2027-04-01T12:00:00+00:00": (None, None, None),
            "elsewhere:1": (None, None, None),
        }
        assert not columns & {"event_id", "registration_id", "signature_id"}
    finally:
        close_database(app)
        database.drop()

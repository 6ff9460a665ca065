"""Migration 0012 fills the outbox's new columns for rows queued under the 0011 schema."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from service.extensions import db

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)


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
    from service.events import service as events
    from service.mail.models import OutboxMessage
    from service.registration.models import Announcement, Registration
    from service.statements import service as statements
    from service.statements.models import Signature, SignatureStatus
    from tests.conftest import base_config, close_database, make_database
    from tests.events.fixtures import event_data

    database = make_database(database_backend, tmp_path)
    app = create_app(base_config(database.url))
    try:
        with app.app_context():
            upgrade(revision="0011")
            [(event, _created)] = events.import_events(
                event_data(people=[])
            )  # no columns of later revisions
            registration = Registration(
                event_id=event.id,
                email="ana@example.org",
                name="Ana",
                language="en",
                created_at=NOW,
            )
            announcement = Announcement(
                event_id=event.id, audience="registered", subject="S", body="B", created_at=NOW
            )
            db.session.add_all([registration, announcement])
            db.session.commit()
            statement = statements.save_statement(
                None, {"slug": "s", "title": "S", "body": "B", "status": "published"}, NOW
            )
            # The row alone, as 0011 stored it (later migrations add to its words, not to it).
            signature = Signature(
                statement_id=statement.id,
                email="ana@example.org",
                name="Ana Flores",
                sort_key="ana flores",
                language="en",
                created_at=NOW,
                status=SignatureStatus.APPROVED,
                confirmed_at=NOW,
            )
            db.session.add(signature)
            db.session.commit()
            e, r, a, s = event.id, registration.id, announcement.id, signature.id
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

"""Migration 0017 on both databases: people already on a bill get a secret of their own and
the site's language; unsubscriptions made before it keep stopping every event's mail."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from service.extensions import db

AT = {"t": "2030-01-01 00:00:00+00:00", "end": "2030-01-01 02:00:00+00:00"}


def test_0017_gives_people_secrets_and_keeps_old_unsubscriptions_wide(database_backend, tmp_path):
    from flask_migrate import downgrade, upgrade

    from service import create_app
    from service.mail import service as mail
    from service.mail.models import MessageKind
    from tests.conftest import base_config, close_database, make_database

    database = make_database(database_backend, tmp_path)
    app = create_app(base_config(database.url, BABEL_DEFAULT_LOCALE="es"))
    try:
        with app.app_context():
            upgrade(revision="0016")
            hashed = mail.address_hash("ollie@example.org")
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO events (id, uid, slug, title, summary, description,"
                        " starts_at, ends_at, timezone, extra_timezones, format, venue, address,"
                        " join_url, waiting_list, status, organised_by, sequence, created_at,"
                        " updated_at, attendee_reminder_offsets, speaker_reminder_offsets,"
                        " speaker_arrival_minutes, speaker_notes, reminder_note)"
                        " VALUES (1, 'u', 'e', 'E', '', '', :t, :end, 'UTC', '[]', 'online', '',"
                        " '', '', true, 'published', '', 0, :t, :end, '[]', '[]', 30, '', '')"
                    ),
                    AT,
                )
                for number in (1, 2):
                    connection.execute(
                        sa.text(
                            "INSERT INTO event_people (id, event_id, position, name, role,"
                            " affiliation) VALUES (:id, 1, :id, :name, 'speaker', '')"
                        ),
                        {"id": number, "name": f"Speaker {number}"},
                    )
                connection.execute(
                    sa.text(
                        "INSERT INTO unsubscriptions (address_hash, kind, created_at)"
                        " VALUES (:hash, 'speaker_reminder', :t)"
                    ),
                    {"hash": hashed, **AT},
                )
            upgrade(revision="0017")
            with db.engine.connect() as connection:
                people = connection.execute(
                    sa.text("SELECT language, link_secret FROM event_people ORDER BY id")
                ).all()
            assert [language for language, _secret in people] == ["es", "es"]
            secrets = {secret for _language, secret in people}
            assert len(secrets) == 2 and all(len(secret) == 32 for secret in secrets)
            # Stopped before 0017: every event's briefs, this one and any other.
            assert mail.is_unsubscribed("ollie@example.org", MessageKind.SPEAKER_REMINDER, 1)
            assert mail.is_unsubscribed("ollie@example.org", MessageKind.SPEAKER_REMINDER, 99)
            mail.unsubscribe(
                mail.address_hash("ana@example.org"),
                MessageKind.SPEAKER_REMINDER,
                datetime(2030, 1, 1, tzinfo=UTC),
                1,
            )
            mail.unsubscribe(  # twice is fine
                mail.address_hash("ana@example.org"),
                MessageKind.SPEAKER_REMINDER,
                datetime(2030, 1, 1, tzinfo=UTC),
                1,
            )
            assert mail.is_unsubscribed("ana@example.org", MessageKind.SPEAKER_REMINDER, 1)
            assert not mail.is_unsubscribed("ana@example.org", MessageKind.SPEAKER_REMINDER, 99)
            db.session.remove()
            downgrade(revision="0016")
            with db.engine.connect() as connection:
                left = connection.execute(sa.text("SELECT address_hash FROM unsubscriptions"))
                assert [row[0] for row in left] == [hashed]  # the one-event row did not widen
    finally:
        close_database(app)
        database.drop()

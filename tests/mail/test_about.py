"""Messages say what they are about in columns; the areas find and forget them by those."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from service.extensions import db
from service.mail import service
from service.mail.models import MessageKind, MessageStatus, OutboxMessage
from service.registration.models import Registration

NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)


def queue(key: str, **about: int | None) -> None:
    service.queue_message(
        kind=MessageKind.CONFIRMATION,
        dedupe_key=key,
        to="ana@example.org",
        name="Ana",
        language="en",
        template="mail/test_message",
        params={"body": "The meeting is on."},
        now=NOW,
        **about,
    )
    db.session.commit()


def keys() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(OutboxMessage.dedupe_key)))


def test_queueing_stores_what_the_message_is_about(
    app, make_event, make_registration, add_signatories, statement
):
    event = make_event()
    registration = make_registration(event.id, "ana@example.org", created_at=NOW)
    [signature_id] = add_signatories(statement.id, ["Ana Flores"])
    with app.app_context():
        queue("about:registration", event_id=event.id, registration_id=registration.id)
        queue("about:signature", signature_id=signature_id)
        queue("about:nothing")
        stored = {
            row.dedupe_key: (row.event_id, row.registration_id, row.signature_id)
            for row in db.session.scalars(select(OutboxMessage))
        }
    assert stored["about:registration"] == (event.id, registration.id, None)
    assert stored["about:signature"] == (None, None, signature_id)
    assert stored["about:nothing"] == (None, None, None)


def test_rows_in_one_statement_store_what_they_are_about_too(app, make_event):
    event = make_event()
    with app.app_context():
        rows = [
            service.outbox_row(
                kind=MessageKind.SPEAKER_REMINDER,
                dedupe_key=f"speaker:{number}",
                to=f"speaker{number}@example.org",
                name="Speaker",
                language="en",
                template="mail/test_message",
                params={},
                now=NOW,
                event_id=event.id,
            )
            for number in range(3)
        ]
        assert service.queue_rows(rows) == 3
        db.session.commit()
        assert set(db.session.scalars(select(OutboxMessage.event_id))) == {event.id}


def test_the_statuses_of_an_events_messages_are_found_by_its_column(app, make_event):
    event = make_event()
    other = make_event(slug="another-meeting")
    with app.app_context():
        queue(f"reminder:{event.id}:20270402T1800Z:60:1", event_id=event.id)
        queue(f"reminder:{other.id}:20270402T1800Z:60:{event.id}", event_id=other.id)
        assert service.message_statuses(event.id) == {
            f"reminder:{event.id}:20270402T1800Z:60:1": MessageStatus.PENDING
        }


def test_forgetting_an_events_mail_takes_its_registrants_mail_and_leaves_the_rest(
    app, make_event, make_registration
):
    event = make_event()
    other = make_event(slug="another-meeting")
    ana = make_registration(event.id, "ana@example.org", created_at=NOW)
    rosa = make_registration(other.id, "rosa@example.org", created_at=NOW)
    with app.app_context():
        queue("event", event_id=event.id)
        queue("registration-only", registration_id=ana.id)
        queue("other-event", event_id=other.id, registration_id=rosa.id)
        registrations = select(Registration.id).where(Registration.event_id == event.id)
        assert service.forget_messages(event_id=event.id, registration_ids=registrations) == 2
        db.session.commit()
        assert keys() == {"other-event"}


def test_forgetting_signatures_mail_takes_only_theirs(app, add_signatories, statement):
    first, second = add_signatories(statement.id, ["Ana Flores", "Rosa Mamani"])
    with app.app_context():
        queue("first", signature_id=first)
        queue("second", signature_id=second)
        assert service.forget_messages(signature_ids=[first]) == 1
        assert service.forget_messages() == 0  # naming nothing forgets nothing
        db.session.commit()
        assert keys() == {"second"}


def test_a_deleted_registration_leaves_its_message_unlinked_but_about_its_event(
    app, make_event, make_registration
):
    event = make_event()
    ana = make_registration(event.id, "ana@example.org", created_at=NOW)
    with app.app_context():
        queue("confirmation", event_id=event.id, registration_id=ana.id)
        db.session.execute(delete(Registration).where(Registration.id == ana.id))
        db.session.commit()
        db.session.expire_all()
        row = db.session.scalar(select(OutboxMessage))
        assert (row.event_id, row.registration_id) == (event.id, None)


def test_retention_can_take_registrants_orphaned_mail_by_address_and_only_that(app):
    with app.app_context():
        queue("orphan")  # a confirmation about nothing any more, to ana@example.org
        service.queue_message(
            kind=MessageKind.SIGNATURE,
            dedupe_key="not-a-registrants",
            to="ana@example.org",
            name="Ana",
            language="en",
            template="mail/test_message",
            params={},
            now=NOW,
        )
        db.session.commit()
        assert service.forget_messages(orphans_to=["rosa@example.org"]) == 0
        assert service.forget_messages(orphans_to=["ana@example.org"]) == 1
        db.session.commit()
        assert keys() == {"not-a-registrants"}

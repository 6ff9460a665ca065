"""Follow-ups: writing one, a test to oneself, the sweep that sends each once, and the sign
link that opens a statement's form with the person's name in it.

The sweep queues one message per confirmed registrant once the send time (and the end) has
passed: the attended version to ``attended_ids(event)``, the missed one to the rest. Each
follow-up is sent in one unit of work that holds its row's lock (``FOR UPDATE`` on PostgreSQL,
SQLite's write lock) and sets ``sent_at``; every message's dedupe key names the event and the
registration. So two sweeps at once, a sweep after a restart or an edit after sending queue
nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from service.db import unit_of_work
from service.events.models import Event, EventStatus
from service.extensions import db
from service.followups.models import Audience, FollowUp, FollowUpVersion
from service.i18n import current_language
from service.mail import service as mail
from service.mail.models import MessageKind
from service.registration.attendance import attended_ids
from service.registration.links import linked_registration, manage_url
from service.registration.models import Registration, RegistrationStatus
from service.security import sign_link
from service.statements import service as statements
from service.statements.models import Statement
from service.text import plain_text, render_markdown
from service.urls import absolute_url

SIGN_PURPOSE = "follow-up-sign-{statement_id}"  # a link for one statement opens no other
SEND_HOUR = time(9, 0)  # the default: the next morning, in the event's zone
TEMPLATE = "followups/follow_up"


class Sender(Protocol):
    """The organiser asking for a test (an account of ``service.organisers``)."""

    email: str
    name: str


class SendTimeBeforeEnd(ValueError):
    """A follow-up's send time must not come before the end of its event."""


@dataclass(frozen=True)
class VersionText:
    """One version as an organiser writes it."""

    subject: str
    body: str
    subject_es: str | None = None
    body_es: str | None = None
    with_recording: bool = False
    with_slides: bool = False
    with_sign: bool = False


@dataclass(frozen=True)
class FollowUpDraft:
    """Everything the follow-up's form holds."""

    send_at: datetime
    attended: VersionText
    missed: VersionText
    recording_url: str = ""
    slides_url: str = ""
    statement_id: int | None = None


def default_send_at(event: Event) -> datetime:
    """09:00 in the event's zone on the day after it starts (after it ends, for an event
    that runs past that morning), whatever the clocks did overnight."""
    zone = event.zone
    day = event.starts_at.astimezone(zone).date() + timedelta(days=1)
    moment = _morning(day, event)
    if moment < event.ends_at:
        moment = _morning(event.ends_at.astimezone(zone).date() + timedelta(days=1), event)
    return moment


def _morning(day: date, event: Event) -> datetime:
    return datetime.combine(day, SEND_HOUR, tzinfo=event.zone)


def get_follow_up(event_id: int) -> FollowUp | None:
    return db.session.scalar(
        select(FollowUp)
        .where(FollowUp.event_id == event_id)
        .options(selectinload(FollowUp.versions))
    )


def statements_to_sign() -> list[Statement]:
    """The statements a follow-up may ask people to sign: the published ones."""
    return statements.list_published()


def save_follow_up(event: Event, draft: FollowUpDraft, now: datetime) -> FollowUp:
    """Write the event's follow-up (a new one, or over the one it has). Once sent, it is not
    sent again, whatever changes. Raises ``SendTimeBeforeEnd``."""
    if draft.send_at < event.ends_at:
        raise SendTimeBeforeEnd(draft.send_at)
    with unit_of_work():
        follow_up = get_follow_up(event.id)
        if follow_up is None:
            follow_up = FollowUp(event_id=event.id, created_at=now)
            db.session.add(follow_up)
        follow_up.send_at = draft.send_at
        follow_up.recording_url = draft.recording_url
        follow_up.slides_url = draft.slides_url
        follow_up.statement_id = draft.statement_id
        follow_up.updated_at = now
        for audience, text in (
            (Audience.ATTENDED, draft.attended),
            (Audience.MISSED, draft.missed),
        ):
            version = next((v for v in follow_up.versions if v.audience is audience), None)
            if version is None:
                version = FollowUpVersion(audience=audience)
                follow_up.versions.append(version)
            for name, value in text.__dict__.items():
                setattr(version, name, value)
    return follow_up


def send_test(
    organiser: Sender, follow_up: FollowUp, audience: Audience, language: str, now: datetime
) -> None:
    """One version, in one language, as registrants will get it, to the organiser alone."""
    with unit_of_work():
        mail.queue_test(
            organiser.email,
            organiser.name,
            language=language,
            template=TEMPLATE,
            params={"follow_up_id": follow_up.id, "audience": audience.value},
            now=now,
            event_id=follow_up.event_id,
        )


@dataclass(frozen=True)
class Audiences:
    """How many confirmed registrants each version would reach now."""

    attended: int
    missed: int


def audience_sizes(event: Event) -> Audiences:
    confirmed = len(_confirmed(event.id))
    attended = len(attended_ids(event))
    return Audiences(attended=attended, missed=confirmed - attended)


def send_due(now: datetime) -> int:
    """Queue every follow-up whose time has come; returns how many messages were queued."""
    due = (
        select(FollowUp.id)
        .join(Event, Event.id == FollowUp.event_id)
        .where(
            FollowUp.sent_at.is_(None),
            FollowUp.send_at <= now,
            Event.ends_at <= now,
            Event.status == EventStatus.PUBLISHED,
            Event.personal_data_removed_at.is_(None),
        )
        .order_by(FollowUp.send_at, FollowUp.id)
    )
    queued = 0
    for follow_up_id in db.session.scalars(due).all():
        with unit_of_work():
            follow_up = db.session.scalar(
                select(FollowUp)
                .where(FollowUp.id == follow_up_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            # Sent meanwhile by another sweep (it held the lock), or no longer due.
            if follow_up is None or not _is_due(follow_up, now):
                continue
            rows = _message_rows(follow_up, now)
            follow_up.recipients = mail.queue_rows(rows)
            follow_up.sent_at = now
            queued += follow_up.recipients
    return queued


def _is_due(follow_up: FollowUp, now: datetime) -> bool:
    """Not sent yet, its time and its event's end passed; never for a cancelled (or draft)
    event, nor one whose attendees' personal data retention has removed."""
    event = follow_up.event
    return (
        follow_up.sent_at is None
        and follow_up.send_at <= now
        and event.ends_at <= now
        and event.status is EventStatus.PUBLISHED
        and event.personal_data_removed_at is None
    )


def _confirmed(event_id: int) -> list[tuple[int, str, str, str]]:
    query = (
        select(Registration.id, Registration.email, Registration.name, Registration.language)
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(Registration.id)
    )
    return [tuple(row) for row in db.session.execute(query)]  # type: ignore[misc]


def _message_rows(follow_up: FollowUp, now: datetime) -> list[dict[str, Any]]:
    """One outbox row per confirmed registrant who did not ask to stop such mail: this
    event's follow-up, every event's follow-ups, or organisers' messages."""
    event = follow_up.event
    attended = attended_ids(event)
    registrants = _confirmed(event.id)
    addresses = [email for _id, email, _name, _language in registrants]
    stopped = mail.unsubscribed_addresses(addresses, MessageKind.FOLLOW_UP, event.id)
    stopped |= mail.unsubscribed_addresses(addresses, MessageKind.ANNOUNCEMENT)
    return [
        mail.outbox_row(
            kind=MessageKind.FOLLOW_UP,
            dedupe_key=f"follow-up:{event.id}:{registration_id}",
            to=email,
            name=name,
            language=language,
            template=TEMPLATE,
            params={
                "follow_up_id": follow_up.id,
                "registration_id": registration_id,
                "audience": (
                    Audience.ATTENDED if registration_id in attended else Audience.MISSED
                ).value,
            },
            now=now,
            event_id=event.id,
            registration_id=registration_id,
        )
        for registration_id, email, name, language in registrants
        if email not in stopped
    ]


# The sign link: the statement's page, its form filled in with the registrant's name.


def sign_url(statement: Statement, registration: Registration | None) -> str:
    """The statement's sign form; for a registrant, with a signed token that fills in their
    name and email and records which event's follow-up they came from."""
    if registration is None:
        return absolute_url("statements.show_statement", slug=statement.slug) + "#sign"
    purpose = SIGN_PURPOSE.format(statement_id=statement.id)
    token = sign_link(purpose, [registration.id, registration.link_secret])
    return absolute_url("statements.show_statement", slug=statement.slug, via=token) + "#sign"


@dataclass(frozen=True)
class SignInvitation:
    """Who a follow-up's sign link was made for, and the event it came with."""

    name: str
    email: str
    event_id: int


def read_sign_token(token: str, statement_id: int) -> SignInvitation | None:
    """The registrant a sign link names, for this statement; None when the token is forged,
    expired (``FOLLOW_UP_SIGN_LINK_DAYS``), revoked, for another statement, or the event's
    personal data is gone."""
    days = int(current_app.config["FOLLOW_UP_SIGN_LINK_DAYS"])
    purpose = SIGN_PURPOSE.format(statement_id=statement_id)
    registration = linked_registration(purpose, token[:1000], max_age=days * 24 * 3600)
    if registration is None or registration.event.personal_data_removed_at is not None:
        return None
    return SignInvitation(registration.name, registration.email, registration.event_id)


@mail.message_builder(TEMPLATE)
def follow_up_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """A version of the follow-up as it reads now; a test (no registration) links the
    statement's plain sign form."""
    follow_up = db.session.get(FollowUp, params["follow_up_id"])
    if follow_up is None:
        raise LookupError(f"follow-up {params['follow_up_id']} no longer exists")
    registration = (
        db.session.get(Registration, params["registration_id"])
        if "registration_id" in params
        else None
    )
    if "registration_id" in params and registration is None:
        raise LookupError(f"registration {params['registration_id']} no longer exists")
    version = follow_up.version(Audience(params["audience"]))
    language = current_language()  # the recipient's: builders run in their locale
    body = version.localised("body", language)
    return mail.MessageContent(
        {
            "event": follow_up.event,
            "message_subject": version.localised("subject", language),
            "body_html": render_markdown(body),
            "body_text": plain_text(body),
            "recording_url": follow_up.recording_url if version.with_recording else "",
            "slides_url": follow_up.slides_url if version.with_slides else "",
            "statement": follow_up.statement if version.with_sign else None,
            "sign_url": (
                sign_url(follow_up.statement, registration)
                if version.with_sign and follow_up.statement is not None
                else ""
            ),
            "event_url": absolute_url("events.show_event", slug=follow_up.event.slug),
            "manage_url": manage_url(registration) if registration else "",
        }
    )

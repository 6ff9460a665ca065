"""Speakers in the loop: people on the bill are invited by mail to their own page, where they
confirm or decline and correct what the event page says about them.

The personal link carries the person's id and ``link_secret`` (``security.read_id_link``);
inviting again makes a new secret, so the link sent before stops working. It expires when
the event ends. What the speaker writes is theirs to change until then; the organisers see
each person's state on the speakers page (``speaker_manage``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from service.access import service as access
from service.access.models import EventRole
from service.db import unit_of_work
from service.events.models import Event, EventPerson, PersonRole, SpeakerAnswer
from service.events.service import lock_event
from service.events.timing import LazyTiming
from service.extensions import db
from service.identity import new_link_secret, normalise_email
from service.mail import service as mail
from service.mail.models import MessageKind
from service.media import service as media
from service.media.service import ImageChoice
from service.security import read_id_link, sign_link
from service.urls import absolute_url

SPEAKER_LINK = "speaker"
LANGUAGES = ("en", "es")
BIO_MAX_LENGTH = 1500  # a short bio: a paragraph or two


@dataclass(frozen=True)
class NewPerson:
    name: str
    role: PersonRole
    affiliation: str
    email: str | None
    language: str


@dataclass(frozen=True)
class SpeakerReply:
    """What a speaker sends from their page."""

    answer: SpeakerAnswer
    name: str
    affiliation: str
    bio: str
    bio_es: str | None
    photo: ImageChoice | None = None  # None: the photo stays as it is


def speaker_url(person: EventPerson) -> str:
    token = sign_link(SPEAKER_LINK, [person.id, person.link_secret])
    return absolute_url("speakers.answer", token=token)


def person_from_link(token: str, now: datetime) -> EventPerson | None:
    """The person a speaker link belongs to; None if forged, revoked (invited again since)
    or expired (the event is over)."""
    linked = read_id_link(SPEAKER_LINK, token)
    if linked is None:
        return None
    person_id, secret = linked
    person = db.session.get(EventPerson, person_id)
    if person is None or not hmac.compare_digest(secret.encode(), person.link_secret.encode()):
        return None
    return person if now < person.event.ends_at else None


def get_person(event: Event, person_id: int) -> EventPerson | None:
    return db.session.scalar(
        select(EventPerson).where(EventPerson.id == person_id, EventPerson.event_id == event.id)
    )


def add_person(event: Event, new: NewPerson, *, invite: bool, now: datetime) -> EventPerson:
    """Put someone on the event's bill, last; with ``invite`` (and an address) they are
    mailed their link at once."""
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        lock_event(event)
        person = EventPerson(
            event=event,
            position=len(event.people),
            name=new.name,
            role=new.role,
            affiliation=new.affiliation,
            email=normalise_email(new.email) if new.email else None,
            language=new.language if new.language in LANGUAGES else "en",
        )
        db.session.add(person)
        db.session.flush()
        if invite and person.email:
            _invite(person, now)
    return person


def invite(person: EventPerson, language: str, now: datetime) -> bool:
    """Mail the person their link in ``language``; inviting again revokes the link sent
    before. False when they have no address."""
    if not person.email:
        return False
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        if language in LANGUAGES:
            person.language = language
        if person.invited_at is not None:
            person.link_secret = new_link_secret()
        _invite(person, now)
    return True


def _invite(person: EventPerson, now: datetime) -> None:
    person.invited_at = now
    mail.queue_message(
        kind=MessageKind.SPEAKER_INVITATION,
        # One mail per link: the same invitation never goes twice, a new one always does.
        dedupe_key=f"speaker_invitation:{person.id}:{person.link_secret}",
        to=person.email or "",
        name=person.name,
        language=person.language,
        template="events/speaker_invitation",
        params={"person_id": person.id},  # the link is made when it goes: always the latest
        now=now,
        event_id=person.event_id,
    )


def answer_invitation(person: EventPerson, answer: SpeakerReply, now: datetime) -> None:
    """Keep the speaker's answer and their own words about themselves; a new answer is
    mailed to the event's managers."""
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        changed = person.answer is not answer.answer
        person.answer = answer.answer
        person.name = answer.name
        person.affiliation = answer.affiliation
        person.bio = answer.bio
        person.bio_es = answer.bio_es or None
        if answer.photo is not None:
            media.apply_image_choice(person, answer.photo, attribute="photo")
        if changed:
            person.answered_at = now
            _tell_managers(person, now)


def _tell_managers(person: EventPerson, now: datetime) -> None:
    answer = person.answer.value if person.answer else ""
    for member in access.event_members(person.event_id):
        if member.role is not EventRole.MANAGER:
            continue
        mail.queue_message(
            kind=MessageKind.SPEAKER_ANSWER,
            dedupe_key=f"speaker_answer:{person.id}:{answer}:{now.isoformat()}:{member.id}",
            to=member.organiser.email,
            name=member.organiser.name,
            language=current_app.config["BABEL_DEFAULT_LOCALE"],
            template="events/speaker_answered",
            params={"person_id": person.id},
            now=now,
            event_id=person.event_id,
        )


@mail.message_builder("events/speaker_invitation", "events/speaker_answered")
def speaker_content(params: dict[str, Any], _memo: dict[Any, Any]) -> mail.MessageContent:
    person = db.session.get(EventPerson, params["person_id"])
    if person is None:
        raise LookupError(f"person {params['person_id']} is no longer on the bill")
    return mail.MessageContent(
        {
            "person": person,
            "event": person.event,
            "timing": LazyTiming(person.event),
            "speaker_url": speaker_url(person),
            "event_url": absolute_url("events.show_event", slug=person.event.slug),
            "speakers_url": absolute_url("manage_speakers.list_speakers", slug=person.event.slug),
        }
    )

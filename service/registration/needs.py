"""What a registrant needs to take part: the language they follow the meeting in and whether
through interpretation (asked when the event has two or more languages), and their access
needs (asked on every event's form).

Access needs say something about a person's health: special-category data. Only admins and
the event's managers see a person's (``Permission.ATTENDEES_ACCESS_NEEDS``: the attendee list,
and an export only when "include access needs" is ticked, recorded as such); those who may see
attendees' details see the counts, to book captioning and the room. They are never in mail to
anyone but the person, nor on a public page; a cancellation forgets them, and retention
deletes them with the rest (docs/privacy.md).
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from service.db import unit_of_work
from service.events.models import Event
from service.extensions import db
from service.registration.models import Registration, RegistrationStatus


class AccessNeed(enum.StrEnum):
    CAPTIONS = "captions"
    BSL = "bsl"  # British Sign Language
    LSE = "lse"  # lengua de signos española
    STEP_FREE = "step_free"
    DIAL_IN = "dial_in"  # a phone number, for low bandwidth


ACCESS_NEED_LABELS = {
    AccessNeed.CAPTIONS: _l("Live captions"),
    AccessNeed.BSL: _l("British Sign Language (BSL) interpretation"),
    AccessNeed.LSE: _l("Spanish Sign Language (LSE) interpretation"),
    AccessNeed.STEP_FREE: _l("Step-free access to the room"),
    AccessNeed.DIAL_IN: _l("A phone number to dial in (for low bandwidth)"),
}
# The short names of the organisers' counts ("captions 3, BSL 1").
ACCESS_NEED_COUNT_LABELS = {
    AccessNeed.CAPTIONS: _l("captions"),
    AccessNeed.BSL: _l("BSL"),
    AccessNeed.LSE: _l("LSE"),
    AccessNeed.STEP_FREE: _l("step-free"),
    AccessNeed.DIAL_IN: _l("dial-in"),
}
OTHER_NEED_LENGTH = 300  # Registration.access_needs_other
# For the organisers' counts and list; the form names each language in itself (``LANGUAGE_NAMES``).
LANGUAGE_LABELS = {"en": _l("In English"), "es": _l("In Spanish")}
# Whole phrases: "into Spanish" is "al español", lower case, in Spanish.
INTERPRETATION_HEADINGS = {
    "en": _l("Interpretation into English:"),
    "es": _l("Interpretation into Spanish:"),
}


@dataclass(frozen=True)
class Needs:
    """What the form asked: the language followed (kept only if it is one of the event's),
    whether through interpretation, access needs (``AccessNeed`` codes) and anything else."""

    follows_language: str | None = None
    needs_interpretation: bool = False
    access_needs: tuple[str, ...] = ()
    access_needs_other: str = ""


def registration_fields(event: Event, needs: Needs) -> dict[str, object]:
    """``needs`` as the registration's columns: a language the event does not offer, or asks
    nobody about, is no answer (nor is interpretation into it); unknown codes are dropped."""
    language = needs.follows_language if event.asks_language else None
    if language not in event.languages:
        language = None
    chosen = set(needs.access_needs)
    return {
        "follows_language": language,
        "needs_interpretation": language is not None and needs.needs_interpretation,
        "access_needs": [need.value for need in AccessNeed if need.value in chosen],
        "access_needs_other": needs.access_needs_other.strip()[:OTHER_NEED_LENGTH],
    }


def update_needs(registration_id: int, needs: Needs) -> bool:
    """The registrant changes their answers (their manage page): one unit of work. False, and
    nothing changed, for a cancelled registration or one whose data retention removed."""
    with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
        registration = db.session.get(Registration, registration_id)
        if registration is None or not may_change_needs(registration):
            return False
        for column, value in registration_fields(registration.event, needs).items():
            setattr(registration, column, value)
    return True


def may_change_needs(registration: Registration) -> bool:
    return not registration.is_cancelled and registration.event.personal_data_removed_at is None


def forget_access_needs(registration: Registration) -> None:
    """A cancelled place needs no room or captions booked: its access needs go at once (in the
    caller's unit of work)."""
    registration.access_needs = []
    registration.access_needs_other = ""


def interpreted_language(registration: Registration) -> str | None:
    """The language this person follows through interpretation, if they need it."""
    return registration.follows_language if registration.needs_interpretation else None


def interpretation_context(registration: Registration) -> dict[str, str]:
    """For a message to this person alone: how they reach the channel interpreted into their
    language (``templates/email/registration/_interpretation.*``), if they need interpretation
    and the event says how; nothing to show for everyone else."""
    return interpretation_for(registration.event, interpreted_language(registration))


def interpretation_for(event: Event, language: str | None) -> dict[str, str]:
    """``interpretation_channel`` (empty: nothing to tell) and its heading, in the language of
    the message being rendered."""
    channel = event.interpretation_channel(language) if language else ""
    heading = INTERPRETATION_HEADINGS.get(language or "") if channel else None
    return {"interpretation_channel": channel, "interpretation_heading": str(heading or "")}


def language_label(code: str) -> str:
    return str(LANGUAGE_LABELS.get(code, code))


def access_need_labels(codes: list[str]) -> list[str]:
    """A person's access needs in words, in the page's language."""
    return [str(label) for need, label in ACCESS_NEED_LABELS.items() if need.value in codes]


@dataclass(frozen=True)
class LanguageHeadcount:
    language: str | None  # None: registered before the event asked
    people: int
    interpreted: int  # of them, how many need interpretation


def language_headcounts(event: Event) -> list[LanguageHeadcount]:
    """Confirmed people per language followed, in the event's order, and how many of each need
    interpretation; those who were not asked last, if any."""
    people: Counter[str | None] = Counter()
    interpreted: Counter[str | None] = Counter()
    for language, needs_interpretation in db.session.execute(
        select(Registration.follows_language, Registration.needs_interpretation).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ):
        people[language] += 1
        interpreted[language] += needs_interpretation
    order: list[str | None] = [*event.languages, *sorted(set(people) - {*event.languages, None})]
    if people[None]:
        order.append(None)
    return [LanguageHeadcount(code, people[code], interpreted[code]) for code in order]


@dataclass(frozen=True)
class AccessNeedCount:
    label: str
    people: int


def access_need_counts(event_id: int) -> list[AccessNeedCount]:
    """How many confirmed people asked for each access need, and for something else: counts
    only, never who. Counted here: one event's rows are few, and JSON differs by database."""
    counts: Counter[str] = Counter()
    other = 0
    for codes, other_need in db.session.execute(
        select(Registration.access_needs, Registration.access_needs_other).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ):
        counts.update(codes or [])
        other += bool(other_need)
    labels = ACCESS_NEED_COUNT_LABELS
    return [
        *(AccessNeedCount(str(labels[need]), counts[need]) for need in AccessNeed),
        AccessNeedCount(str(_l("other")), other),
    ]

"""Every kind of message, in English and Spanish, compared to its snapshot in ``snapshots/``.

Each message is caused as a person or an organiser causes it, through the services, with fixed
names and a fixed clock, then sent by the dispatcher to the real SMTP server on loopback and
read back as a mail client would. A difference fails with a diff; to accept one on purpose:
``UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/mail/test_snapshots.py``, then read the files.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import current_app

# Every service this test drives, in one place: code moving between areas changes only these.
from service.events import service as events
from service.events.models import EventStatus
from service.mail import service as mail
from service.organisers.service import create_organiser
from service.registration import service as registration
from service.registration.messages import send_announcement, send_test
from service.registration.models import RegistrationMode
from service.reminders.service import sweep_reminders
from service.statements import service as statements
from service.statements.models import StatementStatus
from tests.events.fixtures import event_data

SNAPSHOTS = Path(__file__).parent / "snapshots"
SLUG = "solidarity-meeting"
STATEMENT = "solidarity-with-bolivia"
NOW = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)  # weeks from any change of the clocks
LATER = NOW + timedelta(days=2)
START = datetime(2027, 4, 19, 17, 30, tzinfo=UTC)  # 18:30 in London (BST), 13:30 in La Paz
ANA = "ana@example.org"
SPEAKER = "ollie@example.org"  # Ollie Vargas, the event's speaker (tests.events.fixtures)
ORGANISER = "organiser@example.org"


def meeting_data(**overrides) -> dict:
    """The fixed event: a hybrid meeting in London, with La Paz as its audience's zone."""
    return event_data(
        format="hybrid",
        venue="Bolivar Hall",
        address="54 Grafton Way, London W1T 5DL",
        reminder_note="Bring your union banner.",
        speaker_notes="The tech check is on **Jitsi**; slides by Friday.",
        **overrides,
    )


def meeting(**overrides) -> None:
    events.import_events(meeting_data(**overrides))


# What an organiser writes to registrants: Markdown, with a character HTML would escape.
MESSAGE = "Bring your **banner** & a friend.\n\n- Doors open at 18:00\n- Tea afterwards"


def register(name: str, email: str, language: str, mode: RegistrationMode | None = None) -> int:
    """Register for the meeting: in the room unless ``mode`` says online."""
    attendee = registration.Attendee(name, email, mode=mode)
    return registration.register(SLUG, attendee, language, NOW)


def settle(now: datetime) -> None:
    """Send what is queued so far, so that only what comes next is looked at."""
    mail.dispatch_due(now)


# Each scenario causes one kind of message to its recipient in ``language``, and returns the
# recipient's address.


def registration_confirmation(language: str) -> str:
    meeting()
    register("Ana Flores", ANA, language)
    return ANA


def registration_confirmation_online(language: str) -> str:
    """The online part's confirmation: the personal joining link, no address, no QR code."""
    meeting()
    register("Ana Flores", ANA, language, RegistrationMode.ONLINE)
    return ANA


def registration_switched(language: str) -> str:
    """From the room to online, with places free online."""
    meeting()
    ana = register("Ana Flores", ANA, language)
    settle(NOW)
    registration.switch_part(ana, LATER)
    return ANA


def registration_switch_queued(language: str) -> str:
    """From the room towards online, which is full: on its waiting list, keeping the seat."""
    meeting(online_capacity=1)
    register("Ben Quispe", "ben@example.org", "en", RegistrationMode.ONLINE)
    ana = register("Ana Flores", ANA, language)
    settle(NOW)
    registration.switch_part(ana, LATER)
    return ANA


def registration_waiting_list(language: str) -> str:
    meeting(capacity=1)
    register("Ben Quispe", "ben@example.org", "en")
    register("Ana Flores", ANA, language)
    return ANA


def registration_promoted(language: str) -> str:
    meeting(capacity=1)
    ben = register("Ben Quispe", "ben@example.org", "en")
    register("Ana Flores", ANA, language)
    settle(NOW)
    registration.cancel_registration(ben, LATER)
    return ANA


def registration_cancelled(language: str) -> str:
    meeting()
    ana = register("Ana Flores", ANA, language)
    settle(NOW)
    registration.cancel_registration(ana, LATER)
    return ANA


def event_changed(language: str) -> str:
    meeting()
    register("Ana Flores", ANA, language)
    settle(NOW)
    moved = START + timedelta(days=1)
    registration.update_event(
        SLUG,
        meeting_data(
            starts_at=moved.isoformat(),
            ends_at=(moved + timedelta(hours=1, minutes=30)).isoformat(),
        ),
        notify=True,
        now=LATER,
    )
    return ANA


def event_cancelled(language: str) -> str:
    meeting()
    register("Ana Flores", ANA, language)
    settle(NOW)
    registration.change_status(
        events.get_event(SLUG), EventStatus.CANCELLED, LATER, message="We meet **next month**."
    )
    return ANA


def event_reinstated(language: str) -> str:
    event_cancelled(language)
    settle(LATER)
    registration.reinstate_event(events.get_event(SLUG), True, LATER + timedelta(hours=1))
    return ANA


def attendee_reminder(language: str) -> str:
    meeting()
    register("Ana Flores", ANA, language)
    settle(NOW)
    sweep_reminders(START - timedelta(days=1))
    return ANA


def speaker_reminder(language: str) -> str:
    """Speakers have no language of their own: they get the site's."""
    current_app.config["BABEL_DEFAULT_LOCALE"] = language
    meeting()
    sweep_reminders(START - timedelta(days=2))
    return SPEAKER


def announcement(language: str) -> str:
    meeting()
    register("Ana Flores", ANA, language)
    settle(NOW)
    organiser = create_organiser(ORGANISER, "a long enough password", name="Rosa")
    send_announcement(
        organiser, events.get_event(SLUG), "registered", "Doors at 18:00", MESSAGE, LATER
    )
    return ANA


def organiser_test_message(language: str) -> str:
    """The organiser's own copy of an announcement, before sending it to everyone."""
    meeting()
    organiser = create_organiser(ORGANISER, "a long enough password", name="Rosa")
    send_test(organiser, events.get_event(SLUG), "Doors at 18:00", MESSAGE, NOW)
    return ORGANISER


def _statement() -> None:
    statements.save_statement(
        None,
        {
            "slug": STATEMENT,
            "title": "Solidarity with Bolivia",
            "title_es": "Solidaridad con Bolivia",
            "body": "We stand with the people of **Bolivia**.",
            "body_es": "Estamos con el pueblo de **Bolivia**.",
            "status": StatementStatus.PUBLISHED,
        },
        NOW,
    )


ANA_SIGNS = statements.Signer(name="Ana Flores", email=ANA, affiliation="Unite", show_name=True)


def statement_confirm(language: str) -> str:
    _statement()
    statements.sign(STATEMENT, ANA_SIGNS, language, NOW)
    return ANA


def statement_confirmed(language: str) -> str:
    """Signing again once confirmed mails a reminder that one has signed."""
    _statement()
    statements.sign(STATEMENT, ANA_SIGNS, language, NOW)
    statement = statements.get_statement(STATEMENT)
    statements.confirm_signature(statements.find_signature(statement.id, ANA).id, NOW)
    settle(NOW)
    statements.sign(STATEMENT, ANA_SIGNS, language, LATER)
    return ANA


SCENARIOS: dict[str, Callable[[str], str]] = {
    "registration-confirmation": registration_confirmation,
    "registration-confirmation-online": registration_confirmation_online,
    "registration-switched": registration_switched,
    "registration-switch-queued": registration_switch_queued,
    "registration-waiting-list": registration_waiting_list,
    "registration-promoted": registration_promoted,
    "registration-cancelled": registration_cancelled,
    "event-changed": event_changed,
    "event-cancelled": event_cancelled,
    "event-reinstated": event_reinstated,
    "attendee-reminder": attendee_reminder,
    "speaker-reminder": speaker_reminder,
    "announcement": announcement,
    "test-message": organiser_test_message,
    "statement-confirm": statement_confirm,
    "statement-confirmed": statement_confirmed,
}
# Every kind in both languages, but the organiser's test message: send_test has no language
# to take, and writes in English whatever the organiser reads the site in.
CASES = [
    pytest.param(kind, language, id=f"{kind}-{language}")
    for kind in SCENARIOS
    for language in ("en", "es")
    if not (kind == "test-message" and language == "es")
]

TOKEN_LINK = re.compile(
    r"(https://events\.example\.org/(?:r|j|checkin|unsubscribe|signature/confirm|signature/withdraw)/)"
    r"[A-Za-z0-9_.\-]+"
)
MESSAGE_ID = re.compile(r"^Message-ID: .*$", re.MULTILINE)


def mask(snapshot: str) -> str:
    """Replace what differs from run to run, and only that: the signed token of each personal
    link (it holds a random secret and the time it was signed) and the Message-ID (random).
    Everything else, the Date header included, follows from the fixed names and clock."""
    snapshot = TOKEN_LINK.sub(r"\1<token>", snapshot)
    return MESSAGE_ID.sub("Message-ID: <message-id>", snapshot)


HEADERS = ("Subject", "From", "To", "Reply-To", "Date", "Message-ID", "Content-Language")
UNSUBSCRIBE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted")


def as_read(message: EmailMessage) -> str:
    """The message as its recipient reads it: headers, attachments, then both bodies."""
    lines = [f"{name}: {message[name]}" for name in HEADERS + UNSUBSCRIBE_HEADERS if message[name]]
    lines += [
        f"Attachment: {part.get_filename()} ({part.get_content_type()})"
        for part in message.iter_attachments()
    ]
    lines += [
        f"Inline: {part.get_filename()} ({part.get_content_type()}) {part['Content-ID']}"
        for part in message.walk()
        if part["Content-ID"]
    ]
    for kind in ("plain", "html"):
        body = message.get_body((kind,)).get_content().replace("\r\n", "\n")
        lines += ["", f"--- text/{kind} ---", body.rstrip("\n")]
    return mask("\n".join(lines) + "\n")


@pytest.mark.parametrize(("kind", "language"), CASES)
def test_each_kind_of_message_reads_as_in_its_snapshot(app, smtp, kind, language):
    with app.app_context():
        recipient = SCENARIOS[kind](language)
        settled = len(smtp.messages)
        mail.dispatch_due(LATER + timedelta(days=30))
    [message] = [sent for sent in smtp.messages[settled:] if recipient in str(sent["To"])]
    produced = as_read(message)
    path = SNAPSHOTS / f"{kind}.{language}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(produced, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path.name}: UPDATE_SNAPSHOTS=1 writes it; read it then")
    expected = path.read_text(encoding="utf-8")
    if produced != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            produced.splitlines(keepends=True),
            f"snapshots/{path.name}",
            "as sent now",
        )
        pytest.fail(
            "the message differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept):\n"
            + "".join(diff),
            pytrace=False,
        )

"""Signing a statement with double opt-in, confirming, withdrawing; the statements themselves.

A signature counts only once the link mailed to its address has been followed (and, where the
statement asks for it, an organiser approved it); it is listed only if its signer ticked "show
my name". Signing again with the same address never makes a second signature and looks the
same from outside. Withdrawing deletes the signature and every copy of its details.

The public list, search and the counts live in ``listing.py``; moderation in ``moderation.py``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError

from service.access import service as access
from service.access.models import StatementRole
from service.db import empty_write_ahead_log, unit_of_work
from service.events.models import Event, EventStatus
from service.extensions import db
from service.identity import normalise_email
from service.mail import service as mail
from service.mail.models import MessageKind
from service.media import service as media
from service.media.service import ImageChoice
from service.page_cache import clear_pages
from service.security import read_id_link, sign_link
from service.statements.listing import (
    copy_state_to_words,
    fold,
    move_counts,
    name_words,
    record_change,
    set_counts,
    standing,
)
from service.statements.models import (
    Signature,
    SignatureStatus,
    SignatureWord,
    Statement,
    StatementStatus,
)
from service.urls import absolute_url

CONFIRM, WITHDRAW = "signature-confirm", "signature-withdraw"
DELETE_BATCH = 500


class StatementClosed(Exception):
    """The statement takes no signatures now (closed for signing)."""


@dataclass(frozen=True)
class Signer:
    name: str
    email: str
    affiliation: str = ""
    town: str = ""
    country: str = ""
    show_name: bool = False
    keep_informed: bool = False


# Statements


def list_published() -> list[Statement]:
    return list(
        db.session.scalars(
            select(Statement)
            .where(Statement.status == StatementStatus.PUBLISHED)
            .order_by(Statement.created_at.desc(), Statement.id.desc())
        )
    )


def get_public_statement(slug: str) -> Statement | None:
    return db.session.scalar(
        select(Statement).where(
            Statement.slug == slug, Statement.status == StatementStatus.PUBLISHED
        )
    )


def get_statement(slug: str) -> Statement | None:
    return db.session.scalar(select(Statement).where(Statement.slug == slug))


def statement_id_of(slug: str) -> int | None:
    """The id of the statement at ``slug``, drafts included: how the organisers' pages find
    the statement their access check is about (``find_statement_id``)."""
    return db.session.scalar(select(Statement.id).where(Statement.slug == slug))


def list_statements() -> list[Statement]:
    """Every statement, drafts included, newest first (for organisers)."""
    return list(
        db.session.scalars(
            select(Statement).order_by(Statement.created_at.desc(), Statement.id.desc())
        )
    )


def save_statement(
    statement: Statement | None,
    fields: dict[str, Any],
    now: datetime,
    *,
    created_by: int | None = None,
) -> Statement:
    """Create a statement or change one; ``fields`` are the model's. Whoever creates it
    (``created_by``, an organiser's id) becomes its manager, in the same unit of work.
    Raises ``ValueError`` when another statement has the slug."""
    with unit_of_work():
        same_slug = select(Statement.id).where(Statement.slug == fields["slug"])
        if statement is not None:
            same_slug = same_slug.where(Statement.id != statement.id)
        if db.session.scalar(same_slug) is not None:
            raise ValueError(fields["slug"])
        created = statement is None
        if statement is None:
            statement = Statement(created_at=now)
            db.session.add(statement)
        for name, value in fields.items():
            setattr(statement, name, value)
        statement.updated_at = now
        if created and created_by is not None:
            db.session.flush()
            access.grant_statement_role(created_by, statement.id, StatementRole.MANAGER)
    return statement


def recount(statement_id: int) -> None:
    """Set the statement's counts, and the copy of each signature's state its words keep, from
    its signatures (after a bulk import)."""
    with unit_of_work():
        set_counts(statement_id)
        copy_state_to_words(statement_id)


# Signing and confirming


def sign(
    slug: str,
    signer: Signer,
    language: str,
    now: datetime,
    *,
    source_event_id: int | None = None,
) -> None:
    """Add ``signer``'s unconfirmed signature to the published statement ``slug`` and mail
    them the link that confirms it; ``source_event_id`` names the event whose follow-up's
    sign link they came by.

    The same address again changes nothing that was stored (so nobody can rewrite another
    person's details) and re-sends that person's email, at most once every few minutes.
    Raises ``LookupError`` for no such public statement, ``StatementClosed`` when it takes no
    signatures.
    """
    statement = get_public_statement(slug)
    if statement is None:
        raise LookupError(slug)
    if not statement.open_for_signing:
        raise StatementClosed(slug)
    with unit_of_work():
        signature = find_signature(statement.id, signer.email)
        if signature is None:
            try:
                with db.session.begin_nested():
                    signature = _add_signature(statement.id, signer, language, now, source_event_id)
            except IntegrityError:  # the same address, signed a moment ago in another request
                return
        _queue_signature_mail(signature, now)


def find_signature(statement_id: int, email: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(
            Signature.statement_id == statement_id, Signature.email == normalise_email(email)
        )
    )


def add_confirmed_signature(
    statement_id: int, signer: Signer, language: str, now: datetime
) -> Signature:
    """A signature organisers vouch for (the demo's, one collected on paper): confirmed and
    approved at once, with no email."""
    with unit_of_work():
        signature = _add_signature(statement_id, signer, language, now)
        signature.status = SignatureStatus.APPROVED
        signature.confirmed_at = now
        db.session.flush()
        record_change(signature, (0, 0))
    return signature


def _add_signature(
    statement_id: int,
    signer: Signer,
    language: str,
    now: datetime,
    source_event_id: int | None = None,
) -> Signature:
    """A new unconfirmed signature and its name's words, flushed (raises IntegrityError for an
    address that signed already)."""
    signature = Signature(
        statement_id=statement_id,
        source_event_id=source_event_id,
        email=normalise_email(signer.email),
        name=signer.name,
        sort_key=fold(signer.name)[:200],
        affiliation=signer.affiliation,
        town=signer.town,
        country=signer.country,
        show_name=signer.show_name,
        keep_informed=signer.keep_informed,
        keep_informed_at=now if signer.keep_informed else None,
        language=language,
        created_at=now,
    )
    db.session.add(signature)
    db.session.flush()
    db.session.add_all(
        SignatureWord(
            statement_id=statement_id,
            word=word,
            signature_id=signature.id,
            sort_key=signature.sort_key,
        )
        for word in name_words(signer.name)
    )
    db.session.flush()
    return signature


def _queue_signature_mail(signature: Signature, now: datetime, *, renew: bool = False) -> None:
    """The confirmation link (or, once confirmed, a reminder that they signed), unless a copy
    went to this signature less than ``CONFIRMATION_RESEND_MINUTES`` ago."""
    prefix = f"signature:{signature.id}:{signature.created_at.isoformat()}:"
    last = mail.last_queued(prefix)
    wait = timedelta(minutes=int(current_app.config["CONFIRMATION_RESEND_MINUTES"]))
    if last is not None and now - last < wait and not renew:
        return
    template = "confirmed" if signature.is_confirmed else "confirm"
    mail.queue_message(
        kind=MessageKind.SIGNATURE,
        dedupe_key=prefix + now.isoformat(),
        to=signature.email,
        name=signature.name,
        language=signature.language,
        template=f"statements/{template}",
        params={"signature_id": signature.id},
        now=now,
        signature_id=signature.id,
    )


@dataclass(frozen=True)
class EventCount:
    """How many approved signatures came through one event's follow-up."""

    event: Event
    signatures: int


# The public page names an event's follow-up only once this many signatures came through it.
PUBLIC_EVENT_COUNT_MIN = 5


def counts_by_source_event(
    statement_id: int, *, public_at: datetime | None = None
) -> list[EventCount]:
    """Approved signatures per event whose follow-up brought them, most first (counts only:
    never who). Reads ``ix_signatures_source_event``, which holds only such signatures.

    For the public page as it is at ``public_at``: only published events, only signatures
    confirmed before that day began (UTC), and an event only once it has
    ``PUBLIC_EVENT_COUNT_MIN`` of them. A count that moved with each signature, beside the
    public list of names, would tell whose name came from which meeting."""
    signatures = func.count(Signature.id)
    query = (
        select(Event, signatures)
        .join(Event, Event.id == Signature.source_event_id)
        .where(
            Signature.statement_id == statement_id,
            Signature.source_event_id.is_not(None),
            Signature.status == SignatureStatus.APPROVED,
        )
        .group_by(Event.id)
        .order_by(signatures.desc(), Event.starts_at.desc())
    )
    if public_at is not None:
        day_began = public_at.replace(hour=0, minute=0, second=0, microsecond=0)
        query = query.where(
            Event.status == EventStatus.PUBLISHED, Signature.confirmed_at < day_began
        ).having(signatures >= PUBLIC_EVENT_COUNT_MIN)
    return [EventCount(event, count) for event, count in db.session.execute(query)]


def page_scope(slug: str) -> str:
    """The page cache's name for a statement's public pages (``page_cache.clear_pages``)."""
    return f"statement:{slug}"


def queue_approved_mail(signature: Signature, now: datetime) -> None:
    """Tell the signer an organiser approved their signature: once, whatever happens later."""
    mail.queue_message(
        kind=MessageKind.SIGNATURE,
        dedupe_key=f"signature-approved:{signature.id}:{signature.created_at.isoformat()}",
        to=signature.email,
        name=signature.name,
        language=signature.language,
        template="statements/approved",
        params={"signature_id": signature.id},
        now=now,
        signature_id=signature.id,
    )


def renew_confirmation(signature_id: int, now: datetime) -> bool:
    """Mail a new confirmation link for an unconfirmed signature whose link expired."""
    with unit_of_work():
        signature = db.session.get(Signature, signature_id)
        if signature is None or signature.is_confirmed:
            return False
        _queue_signature_mail(signature, now, renew=True)
    return True


def confirm_signature(signature_id: int, now: datetime) -> Signature | None:
    """Count the signature (or put it before the organisers); confirming twice changes
    nothing. None when it no longer exists."""
    with unit_of_work():
        signature = db.session.get(Signature, signature_id)
        if signature is None:
            return None
        if not signature.is_confirmed:
            signature.status = (
                SignatureStatus.AWAITING_APPROVAL
                if signature.statement.requires_approval
                else SignatureStatus.APPROVED
            )
            signature.confirmed_at = now
            db.session.flush()
            record_change(signature, (0, 0))
    clear_pages(page_scope(signature.statement.slug))  # the signer looks for their name next
    return signature


def withdraw(signature_id: int) -> bool:
    """Delete the signature, its name's words and every message to it: nothing of the person
    is left. Returns whether there was anything to delete."""
    with unit_of_work():
        signature = db.session.get(Signature, signature_id)
        if signature is None:
            return False
        slug = signature.statement.slug
        _delete_signatures(select(Signature.id).where(Signature.id == signature_id))
    clear_pages(page_scope(slug))
    empty_write_ahead_log(db.engine)
    return True


def _delete_signatures(ids: Select[Any]) -> int:
    """Delete signatures with their words and their mail (outbox rows and the file backend's
    copies), in the caller's transaction."""
    id_list = list(db.session.scalars(ids))
    for start in range(0, len(id_list), DELETE_BATCH):
        batch = id_list[start : start + DELETE_BATCH]
        for signature in db.session.scalars(select(Signature).where(Signature.id.in_(batch))):
            move_counts(signature.statement_id, standing(signature), (0, 0))
        mail.forget_messages(signature_ids=batch)
        db.session.execute(delete(SignatureWord).where(SignatureWord.signature_id.in_(batch)))
        db.session.execute(delete(Signature).where(Signature.id.in_(batch)))
    return len(id_list)


def purge_unconfirmed(now: datetime) -> int:
    """Delete signatures never confirmed within ``UNCONFIRMED_SIGNATURE_DAYS``: nobody said
    yes to them, so their details are not kept."""
    cutoff = now - timedelta(days=int(current_app.config["UNCONFIRMED_SIGNATURE_DAYS"]))
    with unit_of_work():
        removed = _delete_signatures(
            select(Signature.id).where(
                Signature.status == SignatureStatus.UNCONFIRMED, Signature.created_at < cutoff
            )
        )
    if removed:
        empty_write_ahead_log(db.engine)
    return removed


# Signed links


def confirm_url(signature: Signature) -> str:
    token = sign_link(CONFIRM, [signature.id, signature.link_secret])
    return absolute_url("statements.confirm", token=token)


def withdraw_url(signature: Signature) -> str:
    token = sign_link(WITHDRAW, [signature.id, signature.link_secret])
    return absolute_url("statements.withdraw", token=token)


@dataclass(frozen=True)
class LinkedSignature:
    signature: Signature
    expired: bool


def signature_from_link(purpose: str, token: str) -> LinkedSignature | None:
    """The signature a link belongs to, and whether the link is too old to use; None when the
    link is forged or revoked, or its signature was withdrawn."""
    days = current_app.config["CONFIRM_LINK_DAYS" if purpose == CONFIRM else "WITHDRAW_LINK_DAYS"]
    linked = read_id_link(purpose, token, max_age=int(days) * 24 * 3600)
    expired = linked is None
    if expired:
        linked = read_id_link(purpose, token)
    if linked is None:
        return None
    signature_id, secret = linked
    signature = db.session.get(Signature, signature_id)
    if signature is None or not hmac.compare_digest(
        secret.encode(), signature.link_secret.encode()
    ):
        return None
    return LinkedSignature(signature, expired)


@mail.message_builder("statements/confirm", "statements/confirmed", "statements/approved")
def signature_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    signature = db.session.get(Signature, params["signature_id"])
    if signature is None:
        raise LookupError(f"signature {params['signature_id']} was withdrawn")
    statement = signature.statement
    return mail.MessageContent(
        {
            "signature": signature,
            "statement": statement,
            "statement_url": absolute_url("statements.show_statement", slug=statement.slug),
            "confirm_url": confirm_url(signature),
            "withdraw_url": withdraw_url(signature),
            "link_days": int(current_app.config["CONFIRM_LINK_DAYS"]),
        }
    )


def set_statement_image(statement: Statement, choice: ImageChoice) -> None:
    """Give the statement the image a form chose (new, new alt text, or none). One unit of
    work; raises ``media.ImageRefused``."""
    with unit_of_work():
        media.apply_image_choice(statement, choice)

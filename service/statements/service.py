"""Signing a statement with double opt-in, the public list, moderation and withdrawal.

A signature counts only once the link mailed to its address has been followed (and, where the
statement asks for it, an organiser approved it); it is listed only if its signer ticked "show
my name". Signing again with the same address never makes a second signature and looks the
same from outside. Withdrawing deletes the signature and every copy of its details.
"""

from __future__ import annotations

import enum
import hmac
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from service.db import begin_writing, empty_write_ahead_log
from service.extensions import db
from service.identity import normalise_email
from service.mail import service as mail
from service.mail.models import MessageKind, OutboxMessage
from service.security import read_link, sign_link
from service.statements.models import (
    Signature,
    SignatureStatus,
    SignatureWord,
    Statement,
    StatementStatus,
)
from service.urls import absolute_url

CONFIRM, WITHDRAW = "signature-confirm", "signature-withdraw"
PAGE_SIZE = 50
MAX_PAGE = 100_000
MAX_SEARCH_WORDS = 4
WORD_LENGTH = 60
DELETE_BATCH = 500


class SignatoryOrder(enum.StrEnum):
    NEWEST = "newest"
    NAME = "name"


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


@dataclass(frozen=True)
class SignatoryPage:
    signatories: list[Signature]
    listed: int  # how many match, over every page
    page: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.listed / PAGE_SIZE), 1)


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


def list_statements() -> list[Statement]:
    """Every statement, drafts included, newest first (for organisers)."""
    return list(
        db.session.scalars(
            select(Statement).order_by(Statement.created_at.desc(), Statement.id.desc())
        )
    )


def save_statement(statement: Statement | None, fields: dict[str, Any], now: datetime) -> Statement:
    """Create a statement or change one; ``fields`` are the model's. Raises ``ValueError``
    when another statement has the slug."""
    begin_writing(db.session)
    same_slug = select(Statement.id).where(Statement.slug == fields["slug"])
    if statement is not None:
        same_slug = same_slug.where(Statement.id != statement.id)
    if db.session.scalar(same_slug) is not None:
        db.session.rollback()
        raise ValueError(fields["slug"])
    if statement is None:
        statement = Statement(created_at=now)
        db.session.add(statement)
    for name, value in fields.items():
        setattr(statement, name, value)
    statement.updated_at = now
    db.session.commit()
    return statement


Standing = tuple[int, int]  # (counted, listed): what a signature adds to its statement's counts


def _standing(signature: Signature) -> Standing:
    counted = signature.status is SignatureStatus.APPROVED
    return int(counted), int(counted and signature.show_name)


def _count_change(statement_id: int, before: Standing, after: Standing) -> None:
    """Move the statement's counts by a signature's change, in the caller's transaction.
    ``count = count + n`` is one atomic UPDATE on both databases, however many run at once."""
    counted, listed = after[0] - before[0], after[1] - before[1]
    if counted or listed:
        db.session.execute(
            update(Statement)
            .where(Statement.id == statement_id)
            .values(
                signature_count=Statement.signature_count + counted,
                listed_count=Statement.listed_count + listed,
            )
        )


def recount(statement_id: int) -> None:
    """Set the statement's counts from its signatures (after a bulk import; commits)."""
    approved = select(func.count()).where(
        Signature.statement_id == statement_id, Signature.status == SignatureStatus.APPROVED
    )
    db.session.execute(
        update(Statement)
        .where(Statement.id == statement_id)
        .values(
            signature_count=approved.scalar_subquery(),
            listed_count=approved.where(Signature.show_name.is_(True)).scalar_subquery(),
        )
    )
    db.session.commit()


# The public list


def fold(text: str) -> str:
    """``text`` as search and A-Z compare it: accents off, case folded ("Añez" ~ "anez")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_words(name: str) -> set[str]:
    return {word[:WORD_LENGTH] for word in re.findall(r"\w+", fold(name))}


def _listed_where(statement_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Signature.statement_id == statement_id,
        Signature.status == SignatureStatus.APPROVED,
        Signature.show_name.is_(True),
    )


NEWEST_FIRST = (Signature.confirmed_at.desc(), Signature.id.desc())
A_TO_Z = (Signature.sort_key, Signature.id)


def _page_of(
    where: tuple[ColumnElement[bool], ...], ordering: tuple[Any, ...], page: int, size: int
) -> list[Signature]:
    """One page of the list: featured signatories first, then the rest, each in ``ordering``.

    The two groups are read apart so that each is one range of an index, scanned in one
    direction (``featured DESC, sort_key ASC`` in one query would sort every row). Ids are
    found on the index alone, skipping ``offset`` entries, and only the page's rows are read.
    """
    start = (page - 1) * size
    featured = (*where, Signature.featured.is_(True))
    featured_count = db.session.scalar(select(func.count()).select_from(Signature).where(*featured))
    rows = []
    if start < featured_count:
        rows = _rows(featured, ordering, start, size)
    if len(rows) < size:
        rest = (*where, Signature.featured.is_(False))
        rows += _rows(rest, ordering, max(start - featured_count, 0), size - len(rows))
    return rows


def _rows(
    where: tuple[ColumnElement[bool], ...], ordering: tuple[Any, ...], offset: int, limit: int
) -> list[Signature]:
    ids = select(Signature.id).where(*where).order_by(*ordering).limit(limit).offset(offset)
    return list(
        db.session.scalars(select(Signature).where(Signature.id.in_(ids)).order_by(*ordering))
    )


def _matching(statement_id: int, search: str) -> Select[Any] | None:
    """Ids of signatures whose name has a word beginning with each word searched for, or None
    when nothing searchable was typed. Each word is an index range over ``signature_words``."""
    words = sorted(name_words(search), key=len, reverse=True)[:MAX_SEARCH_WORDS]
    if not words:
        return None
    query: Select[Any] | None = None
    for word in words:
        having_word = select(SignatureWord.signature_id).where(
            SignatureWord.statement_id == statement_id,
            SignatureWord.word >= word,
            SignatureWord.word < word + "\U0010ffff",
        )
        query = (
            having_word
            if query is None
            else having_word.where(SignatureWord.signature_id.in_(query))
        )
    return query


def public_signatories(
    statement: Statement,
    page: int = 1,
    order: SignatoryOrder = SignatoryOrder.NEWEST,
    search: str = "",
) -> SignatoryPage:
    """One page of the public list: featured signatories first, then newest first or A-Z."""
    where = _listed_where(statement.id)
    if search.strip():
        matching = _matching(statement.id, search)
        if matching is None:
            return SignatoryPage([], 0, page)
        where = (*where, Signature.id.in_(matching))
        listed = db.session.scalar(select(func.count()).select_from(Signature).where(*where)) or 0
    else:
        listed = statement.listed_count
    ordering = A_TO_Z if order is SignatoryOrder.NAME else NEWEST_FIRST
    return SignatoryPage(_page_of(where, ordering, page, PAGE_SIZE), listed, page)


def public_statement_data(statement: Statement, page: int, per_page: int) -> dict[str, Any]:
    """The statement's count and one page of public names, for the JSON API."""
    rows = _page_of(_listed_where(statement.id), NEWEST_FIRST, page, per_page)
    return {
        "slug": statement.slug,
        "title": statement.title,
        "title_es": statement.title_es,
        "url": absolute_url("statements.show_statement", slug=statement.slug),
        "open_for_signing": statement.open_for_signing,
        "target": statement.target_count,
        "count": statement.signature_count,
        "listed": statement.listed_count,
        "page": page,
        "per_page": per_page,
        "signatories": [
            {
                "name": signature.name,
                "affiliation": signature.affiliation,
                "town": signature.town,
                "country": signature.country,
                "featured": signature.featured,
                "signed_at": signature.confirmed_at.isoformat() if signature.confirmed_at else None,
            }
            for signature in rows
        ],
    }


# Signing and confirming


def sign(slug: str, signer: Signer, language: str, now: datetime) -> None:
    """Add ``signer``'s unconfirmed signature to the published statement ``slug`` and mail
    them the link that confirms it.

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
    begin_writing(db.session)
    signature = find_signature(statement.id, signer.email)
    if signature is not None:
        _queue_signature_mail(signature, now)
        db.session.commit()
        return
    try:
        signature = _add_signature(statement.id, signer, language, now)
    except IntegrityError:  # the same address, signed a moment ago in another request
        db.session.rollback()
        return
    _queue_signature_mail(signature, now)
    db.session.commit()


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
    begin_writing(db.session)
    signature = _add_signature(statement_id, signer, language, now)
    signature.status = SignatureStatus.APPROVED
    signature.confirmed_at = now
    _count_change(statement_id, (0, 0), _standing(signature))
    db.session.commit()
    return signature


def _add_signature(statement_id: int, signer: Signer, language: str, now: datetime) -> Signature:
    """A new unconfirmed signature and its name's words, flushed (raises IntegrityError for an
    address that signed already)."""
    signature = Signature(
        statement_id=statement_id,
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
        SignatureWord(statement_id=statement_id, word=word, signature_id=signature.id)
        for word in name_words(signer.name)
    )
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
    )


def renew_confirmation(signature_id: int, now: datetime) -> bool:
    """Mail a new confirmation link for an unconfirmed signature whose link expired."""
    begin_writing(db.session)
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.is_confirmed:
        db.session.rollback()
        return False
    _queue_signature_mail(signature, now, renew=True)
    db.session.commit()
    return True


def confirm_signature(signature_id: int, now: datetime) -> Signature | None:
    """Count the signature (or put it before the organisers); confirming twice changes
    nothing. None when it no longer exists."""
    begin_writing(db.session)
    signature = db.session.get(Signature, signature_id)
    if signature is None:
        db.session.rollback()
        return None
    if not signature.is_confirmed:
        signature.status = (
            SignatureStatus.AWAITING_APPROVAL
            if signature.statement.requires_approval
            else SignatureStatus.APPROVED
        )
        signature.confirmed_at = now
        _count_change(signature.statement_id, (0, 0), _standing(signature))
    db.session.commit()
    return signature


def withdraw(signature_id: int) -> bool:
    """Delete the signature, its name's words and every message to it: nothing of the person
    is left. Returns whether there was anything to delete."""
    begin_writing(db.session)
    signature = db.session.get(Signature, signature_id)
    if signature is None:
        db.session.rollback()
        return False
    _delete_signatures(select(Signature.id).where(Signature.id == signature_id))
    db.session.commit()
    empty_write_ahead_log(db.engine)
    return True


def _delete_signatures(ids: Select[Any]) -> int:
    """Delete signatures with their words and their mail (outbox rows and the file backend's
    copies), in the caller's transaction."""
    id_list = list(db.session.scalars(ids))
    for start in range(0, len(id_list), DELETE_BATCH):
        batch = id_list[start : start + DELETE_BATCH]
        for signature in db.session.scalars(select(Signature).where(Signature.id.in_(batch))):
            _count_change(signature.statement_id, _standing(signature), (0, 0))
        mail.delete_messages(
            OutboxMessage.kind == MessageKind.SIGNATURE,
            OutboxMessage.params["signature_id"].as_integer().in_(batch),
        )
        db.session.execute(delete(SignatureWord).where(SignatureWord.signature_id.in_(batch)))
        db.session.execute(delete(Signature).where(Signature.id.in_(batch)))
    return len(id_list)


def purge_unconfirmed(now: datetime) -> int:
    """Delete signatures never confirmed within ``UNCONFIRMED_SIGNATURE_DAYS``: nobody said
    yes to them, so their details are not kept."""
    cutoff = now - timedelta(days=int(current_app.config["UNCONFIRMED_SIGNATURE_DAYS"]))
    begin_writing(db.session)
    removed = _delete_signatures(
        select(Signature.id).where(
            Signature.status == SignatureStatus.UNCONFIRMED, Signature.created_at < cutoff
        )
    )
    db.session.commit()
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
    payload = read_link(purpose, token, max_age=int(days) * 24 * 3600)
    expired = payload is None
    if expired:
        payload = read_link(purpose, token)
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        return None
    signature_id, secret = payload
    signature = db.session.get(Signature, signature_id)
    if signature is None or not hmac.compare_digest(
        str(secret).encode(), signature.link_secret.encode()
    ):
        return None
    return LinkedSignature(signature, expired)


@mail.message_builder("statements/confirm", "statements/confirmed")
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


# Moderation


class ModerationAction(enum.StrEnum):
    APPROVE = "approve"
    HIDE = "hide"
    FEATURE = "feature"
    UNFEATURE = "unfeature"


def moderate(statement_id: int, signature_id: int, action: ModerationAction) -> bool:
    """Approve, hide, feature or unfeature a confirmed signature of the statement."""
    begin_writing(db.session)
    signature = db.session.get(Signature, signature_id)
    if (
        signature is None
        or signature.statement_id != statement_id
        or not signature.is_confirmed
        or (action is ModerationAction.FEATURE and not signature.show_name)  # never listed unasked
    ):
        db.session.rollback()
        return False
    before = _standing(signature)
    if action is ModerationAction.APPROVE:
        signature.status = SignatureStatus.APPROVED
    elif action is ModerationAction.HIDE:
        signature.status = SignatureStatus.HIDDEN
        signature.featured = False
    else:
        signature.featured = action is ModerationAction.FEATURE
        if signature.featured:  # featuring someone approves them
            signature.status = SignatureStatus.APPROVED
    _count_change(statement_id, before, _standing(signature))
    db.session.commit()
    return True


class SignatureFilter(enum.StrEnum):
    ALL = "all"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    FEATURED = "featured"
    HIDDEN = "hidden"
    UNCONFIRMED = "unconfirmed"


def find_signatures(
    statement_id: int, search: str, shown: SignatureFilter, page: int
) -> tuple[list[Signature], int]:
    """A page of the statement's signatures for organisers, by name or email, oldest
    awaiting approval first."""
    query = select(Signature).where(Signature.statement_id == statement_id)
    if shown is SignatureFilter.FEATURED:
        query = query.where(Signature.featured.is_(True))
    elif shown is not SignatureFilter.ALL:
        query = query.where(Signature.status == SignatureStatus(shown.value))
    if search:
        query = query.where(
            func.lower(Signature.name).contains(search.lower(), autoescape=True)
            | Signature.email.contains(search.lower(), autoescape=True)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(Signature.created_at.desc(), Signature.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return list(rows), total


def signature_counts(statement_id: int) -> dict[str, int]:
    """How many signatures are in each state, and how many are featured."""
    counts = {status.value: 0 for status in SignatureStatus}
    for status, number in db.session.execute(
        select(Signature.status, func.count())
        .where(Signature.statement_id == statement_id)
        .group_by(Signature.status)
    ):
        counts[status.value] = number
    counts["featured"] = (
        db.session.scalar(
            select(func.count()).where(
                Signature.statement_id == statement_id, Signature.featured.is_(True)
            )
        )
        or 0
    )
    return counts

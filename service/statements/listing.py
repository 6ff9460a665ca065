"""The public list of signatories: who is listed, in which order, page by page, and search.

Pages are read by keyset, never by ``OFFSET`` over rows: a page is the ``PAGE_SIZE`` listed
signatures after a position in the list's order (featured first, then newest first or A-Z),
each group one range of a covering index (``ix_signatures_list_newest``/``_name``). "Next"
carries the last row's sort key in ``?after=`` (a cursor: opaque, not secret); a page number
(``?page=N``) finds the row before its page on the index alone and continues from there.
A search reads the same way from ``signature_words``, whose rows keep a copy of what the list
filters and sorts by: its rows and its count are one range of ``ix_signature_words_listed``
(the longest word searched for; each other word a range of the words' primary key). The counts
are the statement's own (``Statement.listed_count``) unless a search narrows the list; every
change to a signature's place in the list goes through ``record_change``, which keeps both.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import math
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, distinct, func, literal, select, tuple_, update

from service.extensions import db
from service.statements.models import Signature, SignatureStatus, SignatureWord, Statement
from service.urls import absolute_url

PAGE_SIZE = 50
MAX_PAGE = 100_000
MAX_SEARCH_WORDS = 4
WORD_LENGTH = 60
MAX_CURSOR_LENGTH = 400


class SignatoryOrder(enum.StrEnum):
    NEWEST = "newest"
    NAME = "name"


@dataclass(frozen=True)
class Position:
    """A row's place in the list: its group (featured or not), sort key and id."""

    featured: bool
    key: datetime | str
    id: int


@dataclass(frozen=True)
class SignatoryPage:
    signatories: list[Signature]
    listed: int  # how many match, over every page
    page: int
    after: str | None = None  # the cursor of the next page, when there is one

    @property
    def pages(self) -> int:
        return max(math.ceil(self.listed / PAGE_SIZE), 1)


def fold(text: str) -> str:
    """``text`` as search and A-Z compare it: accents off, case folded ("Añez" ~ "anez")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_words(name: str) -> set[str]:
    return {word[:WORD_LENGTH] for word in re.findall(r"\w+", fold(name))}


@dataclass(frozen=True)
class _Source:
    """Where a list's rows are read: ``signatures`` itself, or a search's ``signature_words``
    (a name may have two words that match, hence ``distinct``)."""

    where: tuple[ColumnElement[bool], ...]
    featured: Any
    confirmed_at: Any
    sort_key: Any
    id: Any
    distinct: bool = False

    def sort_column(self, order: SignatoryOrder) -> Any:
        return self.sort_key if order is SignatoryOrder.NAME else self.confirmed_at

    def ordering(self, order: SignatoryOrder) -> tuple[Any, ...]:
        column = self.sort_column(order)
        if order is SignatoryOrder.NAME:
            return (column, self.id)
        return (column.desc(), self.id.desc())

    def keys(self, order: SignatoryOrder, featured: bool) -> Select[Any]:
        """The group's (sort key, id) in the list's order."""
        query = select(self.sort_column(order), self.id).where(
            *self.where, self.featured.is_(featured)
        )
        return (query.distinct() if self.distinct else query).order_by(*self.ordering(order))


_SIGNATURES = _Source(
    (), Signature.featured, Signature.confirmed_at, Signature.sort_key, Signature.id
)


def _listed(statement_id: int) -> _Source:
    return replace(
        _SIGNATURES,
        where=(
            Signature.statement_id == statement_id,
            Signature.status == SignatureStatus.APPROVED,
            Signature.show_name.is_(True),
        ),
    )


def _beyond(source: _Source, order: SignatoryOrder, position: Position) -> ColumnElement[bool]:
    """Rows after ``position`` in its group: one row-value range of the group's index."""
    column = source.sort_column(order)
    row = tuple_(column, source.id)
    bound = tuple_(literal(position.key, column.type), literal(position.id))
    return row > bound if order is SignatoryOrder.NAME else row < bound


def _group(
    source: _Source,
    order: SignatoryOrder,
    featured: bool,
    after: Position | None,
    limit: int,
) -> list[Signature]:
    keys = source.keys(order, featured)
    if after is not None:
        keys = keys.where(_beyond(source, order, after))
    keys = keys.limit(limit)
    if source.distinct:  # a search: the page's ids from the words, then their signatures
        ids = select(keys.subquery().c[1])
        query = (
            select(Signature).where(Signature.id.in_(ids)).order_by(*_SIGNATURES.ordering(order))
        )
    else:
        query = keys.with_only_columns(Signature)
    return list(db.session.scalars(query))


def _page_after(
    source: _Source, order: SignatoryOrder, after: Position | None, size: int
) -> list[Signature]:
    """The ``size`` rows after ``after`` (from the top when None): featured ones, then the rest."""
    rows: list[Signature] = []
    if after is None or after.featured:
        rows = _group(source, order, True, after, size)
    if len(rows) < size:
        rest_after = after if after is not None and not after.featured else None
        rows += _group(source, order, False, rest_after, size - len(rows))
    return rows


def _count(source: _Source, *where: ColumnElement[bool]) -> int:
    counted = distinct(source.id) if source.distinct else source.id
    return db.session.scalar(select(func.count(counted)).where(*source.where, *where)) or 0


def _position_at(source: _Source, order: SignatoryOrder, index: int) -> Position | None:
    """The position of the ``index``-th row (from 0), read on the index alone (its key and id,
    no row): what a page number costs. None past the end."""
    featured_count = _count(source, source.featured.is_(True))
    is_featured = index < featured_count
    skip = index if is_featured else index - featured_count
    found = db.session.execute(source.keys(order, is_featured).offset(skip).limit(1)).first()
    return None if found is None else Position(is_featured, found[0], found[1])


def _page(source: _Source, order: SignatoryOrder, page: int, size: int) -> list[Signature]:
    if page == 1:
        return _page_after(source, order, None, size)
    before = _position_at(source, order, (page - 1) * size - 1)
    return [] if before is None else _page_after(source, order, before, size)


def write_cursor(order: SignatoryOrder, page: int, signature: Signature) -> str:
    """The ``?after=`` value for the page that follows ``signature`` (page ``page + 1``)."""
    key: Any = signature.sort_key if order is SignatoryOrder.NAME else signature.confirmed_at
    if isinstance(key, datetime):
        key = key.isoformat()
    data = [order.value, page + 1, int(signature.featured), key, signature.id]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def read_cursor(order: SignatoryOrder, cursor: str) -> tuple[int, Position] | None:
    """The page number and position a cursor names; None for one that is not ours (forged,
    cut short, of the other order)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        kind, page, featured, key, signature_id = data
        if kind != order.value or not isinstance(key, str):
            return None
        if not (isinstance(page, int) and isinstance(signature_id, int) and featured in (0, 1)):
            return None
        if order is SignatoryOrder.NEWEST:
            key = datetime.fromisoformat(key)
            if key.tzinfo is None:
                return None
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    if not (2 <= page <= MAX_PAGE and 0 < signature_id < 2**63):
        return None
    return page, Position(bool(featured), key, signature_id)


def _matching(statement_id: int, search: str) -> _Source | None:
    """Listed signatures whose name has a word beginning with each word searched for, or None
    when nothing searchable was typed: a range of ``ix_signature_words_listed`` for the
    longest word, each other word a range of the words' primary key."""
    words = sorted(name_words(search), key=len, reverse=True)[:MAX_SEARCH_WORDS]
    if not words:
        return None
    first, *others = words
    where: tuple[ColumnElement[bool], ...] = (
        SignatureWord.statement_id == statement_id,
        SignatureWord.listed.is_(True),
        *_prefix(first),
    )
    for word in others:
        having_word = select(SignatureWord.signature_id).where(
            SignatureWord.statement_id == statement_id, *_prefix(word)
        )
        where = (*where, SignatureWord.signature_id.in_(having_word))
    return _Source(
        where,
        SignatureWord.featured,
        SignatureWord.confirmed_at,
        SignatureWord.sort_key,
        SignatureWord.signature_id,
        distinct=True,
    )


def _prefix(word: str) -> tuple[ColumnElement[bool], ...]:
    return SignatureWord.word >= word, SignatureWord.word < word + "\U0010ffff"


def public_signatories(
    statement: Statement,
    page: int = 1,
    order: SignatoryOrder = SignatoryOrder.NEWEST,
    search: str = "",
    after: str | None = None,
) -> SignatoryPage:
    """One page of the public list: featured signatories first, then newest first or A-Z.
    ``after`` (a cursor from the previous page) wins over ``page``; a cursor that is not ours
    gives page 1."""
    source, listed = _listed(statement.id), statement.listed_count
    if search.strip():
        matching = _matching(statement.id, search)
        if matching is None:
            return SignatoryPage([], 0, 1)
        source, listed = matching, _count(matching)
    read = read_cursor(order, after) if after else None
    if read is not None:
        page, position = read
        rows = _page_after(source, order, position, PAGE_SIZE)
    else:
        page = page if after is None else 1
        rows = _page(source, order, page, PAGE_SIZE)
    next_after = None
    if len(rows) == PAGE_SIZE and page * PAGE_SIZE < listed:
        next_after = write_cursor(order, page, rows[-1])
    return SignatoryPage(rows, listed, page, next_after)


def public_statement_data(statement: Statement, page: int, per_page: int) -> dict[str, Any]:
    """The statement's count and one page of public names, for the JSON API."""
    rows = _page(_listed(statement.id), SignatoryOrder.NEWEST, page, per_page)
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


# The counts a statement keeps

Standing = tuple[int, int]  # (counted, listed): what a signature adds to its statement's counts


def standing(signature: Signature) -> Standing:
    counted = signature.status is SignatureStatus.APPROVED
    return int(counted), int(counted and signature.show_name)


def record_change(signature: Signature, before: Standing) -> None:
    """After a change to a flushed signature's state (confirmed, approved, hidden, featured):
    move its statement's counts and set the copy its words keep, in the caller's transaction."""
    move_counts(signature.statement_id, before, standing(signature))
    db.session.execute(
        update(SignatureWord)
        .where(SignatureWord.signature_id == signature.id)
        .values(
            listed=signature.is_listed,
            featured=signature.featured,
            confirmed_at=signature.confirmed_at,
            sort_key=signature.sort_key,
        )
    )


def move_counts(statement_id: int, before: Standing, after: Standing) -> None:
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


def set_counts(statement_id: int) -> None:
    """Set the statement's counts from its signatures, in the caller's transaction."""
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


def copy_state_to_words(statement_id: int) -> None:
    """Set the copy every word of the statement keeps from its signature (what
    ``record_change`` does for one), in the caller's transaction: after a bulk import."""
    signature = select(Signature).where(Signature.id == SignatureWord.signature_id)
    db.session.execute(
        update(SignatureWord)
        .where(SignatureWord.statement_id == statement_id)
        .values(
            listed=signature.with_only_columns(
                (Signature.status == SignatureStatus.APPROVED) & Signature.show_name
            ).scalar_subquery(),
            featured=signature.with_only_columns(Signature.featured).scalar_subquery(),
            confirmed_at=signature.with_only_columns(Signature.confirmed_at).scalar_subquery(),
            sort_key=signature.with_only_columns(Signature.sort_key).scalar_subquery(),
        )
    )

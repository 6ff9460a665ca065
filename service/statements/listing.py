"""The public list of signatories: who is listed, in which order, page by page, and search.

Pages are read by keyset, never by ``OFFSET`` over rows: a page is the ``PAGE_SIZE`` listed
signatures after a position in the list's order (featured first, then newest first or A-Z),
each group one range of a covering index (``ix_signatures_list_newest``/``_name``). "Next"
carries the last row's sort key in ``?after=`` (a cursor: opaque, not secret); a page number
(``?page=N``) finds the row before its page on the index alone and continues from there.
A search is an index range per word over ``signature_words``. The counts are the statement's
own (``Statement.listed_count``, kept by every change) unless a search narrows the list.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_, update

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


def _listed_where(statement_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Signature.statement_id == statement_id,
        Signature.status == SignatureStatus.APPROVED,
        Signature.show_name.is_(True),
    )


def _sort_column(order: SignatoryOrder) -> Any:
    return Signature.sort_key if order is SignatoryOrder.NAME else Signature.confirmed_at


def _ordering(order: SignatoryOrder) -> tuple[Any, ...]:
    if order is SignatoryOrder.NAME:
        return (Signature.sort_key, Signature.id)
    return (Signature.confirmed_at.desc(), Signature.id.desc())


def _beyond(order: SignatoryOrder, position: Position) -> ColumnElement[bool]:
    """Rows after ``position`` in its group: one row-value range of the group's index."""
    column = _sort_column(order)
    row = tuple_(column, Signature.id)
    bound = tuple_(literal(position.key, column.type), literal(position.id))
    return row > bound if order is SignatoryOrder.NAME else row < bound


def _group(
    where: tuple[ColumnElement[bool], ...],
    order: SignatoryOrder,
    featured: bool,
    after: Position | None,
    limit: int,
) -> list[Signature]:
    query = select(Signature).where(*where, Signature.featured.is_(featured))
    if after is not None:
        query = query.where(_beyond(order, after))
    return list(db.session.scalars(query.order_by(*_ordering(order)).limit(limit)))


def _page_after(
    where: tuple[ColumnElement[bool], ...],
    order: SignatoryOrder,
    after: Position | None,
    size: int,
) -> list[Signature]:
    """The ``size`` rows after ``after`` (from the top when None): featured ones, then the rest."""
    rows: list[Signature] = []
    if after is None or after.featured:
        rows = _group(where, order, True, after, size)
    if len(rows) < size:
        rest_after = after if after is not None and not after.featured else None
        rows += _group(where, order, False, rest_after, size - len(rows))
    return rows


def _position_at(
    where: tuple[ColumnElement[bool], ...], order: SignatoryOrder, index: int
) -> Position | None:
    """The position of the ``index``-th row (from 0), read on the index alone (its key and id,
    no row): what a page number costs. None past the end."""
    column = _sort_column(order)
    featured = (*where, Signature.featured.is_(True))
    featured_count = db.session.scalar(select(func.count()).select_from(Signature).where(*featured))
    is_featured = index < (featured_count or 0)
    skip = index if is_featured else index - (featured_count or 0)
    found = db.session.execute(
        select(column, Signature.id)
        .where(*where, Signature.featured.is_(is_featured))
        .order_by(*_ordering(order))
        .offset(skip)
        .limit(1)
    ).first()
    return None if found is None else Position(is_featured, found[0], found[1])


def _page(
    where: tuple[ColumnElement[bool], ...], order: SignatoryOrder, page: int, size: int
) -> list[Signature]:
    if page == 1:
        return _page_after(where, order, None, size)
    before = _position_at(where, order, (page - 1) * size - 1)
    return [] if before is None else _page_after(where, order, before, size)


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
    after: str | None = None,
) -> SignatoryPage:
    """One page of the public list: featured signatories first, then newest first or A-Z.
    ``after`` (a cursor from the previous page) wins over ``page``; a cursor that is not ours
    gives page 1."""
    where = _listed_where(statement.id)
    if search.strip():
        matching = _matching(statement.id, search)
        if matching is None:
            return SignatoryPage([], 0, 1)
        where = (*where, Signature.id.in_(matching))
        listed = db.session.scalar(select(func.count()).select_from(Signature).where(*where)) or 0
    else:
        listed = statement.listed_count
    read = read_cursor(order, after) if after else None
    if read is not None:
        page, position = read
        rows = _page_after(where, order, position, PAGE_SIZE)
    else:
        page = page if after is None else 1
        rows = _page(where, order, page, PAGE_SIZE)
    next_after = None
    if len(rows) == PAGE_SIZE and page * PAGE_SIZE < listed:
        next_after = write_cursor(order, page, rows[-1])
    return SignatoryPage(rows, listed, page, next_after)


def public_statement_data(statement: Statement, page: int, per_page: int) -> dict[str, Any]:
    """The statement's count and one page of public names, for the JSON API."""
    rows = _page(_listed_where(statement.id), SignatoryOrder.NEWEST, page, per_page)
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

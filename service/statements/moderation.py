"""Organisers' side of the signatures: their list with filters, their counts by state, and
moderation (approve, hide, feature)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import func, select

from service.db import unit_of_work, utc_now
from service.extensions import db
from service.page_cache import clear_pages
from service.statements import service
from service.statements.listing import PAGE_SIZE, record_change, standing
from service.statements.models import Signature, SignatureStatus


class ModerationAction(enum.StrEnum):
    APPROVE = "approve"
    HIDE = "hide"
    FEATURE = "feature"
    UNFEATURE = "unfeature"


def moderate(
    statement_id: int,
    signature_id: int,
    action: ModerationAction,
    now: datetime | None = None,
) -> bool:
    """Approve, hide, feature or unfeature a confirmed signature of the statement. A signer
    whose signature waited for approval is mailed once when it is approved (or featured)."""
    with unit_of_work():
        signature = db.session.get(Signature, signature_id)
        if (
            signature is None
            or signature.statement_id != statement_id
            or not signature.is_confirmed
            or (action is ModerationAction.FEATURE and not signature.show_name)  # never unasked
        ):
            return False
        before = standing(signature)
        was_awaiting = signature.status is SignatureStatus.AWAITING_APPROVAL
        if action is ModerationAction.APPROVE:
            signature.status = SignatureStatus.APPROVED
        elif action is ModerationAction.HIDE:
            signature.status = SignatureStatus.HIDDEN
            signature.featured = False
        else:
            signature.featured = action is ModerationAction.FEATURE
            if signature.featured:  # featuring someone approves them
                signature.status = SignatureStatus.APPROVED
        db.session.flush()
        record_change(signature, before)
        if was_awaiting and signature.status is SignatureStatus.APPROVED:
            service.queue_approved_mail(signature, now or utc_now())
        slug = signature.statement.slug
    clear_pages(service.page_scope(slug))
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

"""The one answer to "what may this account do here": admins everything; any other account
only what its role on that event or statement allows (``EVENT_ROLE_PERMISSIONS``,
``STATEMENT_ROLE_PERMISSIONS``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, func, select

from service.access.models import (
    EventMember,
    EventRole,
    Invitation,
    InvitedEventRole,
    InvitedStatementRole,
    StatementMember,
    StatementRole,
)
from service.db import unit_of_work
from service.extensions import db

if TYPE_CHECKING:
    from service.organisers.models import Organiser


class Permission(enum.StrEnum):
    """What an organisers' page does; each management view declares the one it needs."""

    EVENT_CREATE = "event_create"
    EVENT_EDIT = "event_edit"  # the form, the questions
    EVENT_STATUS = "event_status"  # publish, cancel
    EVENT_PREVIEW = "event_preview"
    EVENT_MAIL = "event_mail"  # the scheduled reminders, with their recipients
    EVENT_MESSAGE = "event_message"
    EVENT_EXPORT = "event_export"
    EVENT_TEAM = "event_team"
    ATTENDEES_LIST = "attendees_list"  # names, counts, the chart, search
    ATTENDEES_DETAILS = "attendees_details"  # emails and answers in the list
    ATTENDEES_ACT = "attendees_act"  # resend a confirmation, cancel on someone's behalf
    # Each person's access needs (special-category data), in the list and a ticked export.
    ATTENDEES_ACCESS_NEEDS = "attendees_access_needs"
    CHECK_IN = "check_in"
    STATEMENT_LIST = "statement_list"  # the list, filtered to what the account may see
    STATEMENT_CREATE = "statement_create"
    STATEMENT_EDIT = "statement_edit"  # the editor, publishing
    STATEMENT_PREVIEW = "statement_preview"
    STATEMENT_MODERATE = "statement_moderate"  # the signatures, approve, hide, feature
    STATEMENT_EXPORT = "statement_export"
    STATEMENT_TEAM = "statement_team"
    SITE_LOOK = "site_look"  # the home page's introduction and the logo: admins only


EVENT_PERMISSIONS = {
    Permission.EVENT_EDIT,
    Permission.EVENT_STATUS,
    Permission.EVENT_PREVIEW,
    Permission.EVENT_MAIL,
    Permission.EVENT_MESSAGE,
    Permission.EVENT_EXPORT,
    Permission.EVENT_TEAM,
    Permission.ATTENDEES_LIST,
    Permission.ATTENDEES_DETAILS,
    Permission.ATTENDEES_ACT,
    Permission.ATTENDEES_ACCESS_NEEDS,
    Permission.CHECK_IN,
}
STATEMENT_PERMISSIONS = {
    Permission.STATEMENT_EDIT,
    Permission.STATEMENT_PREVIEW,
    Permission.STATEMENT_MODERATE,
    Permission.STATEMENT_EXPORT,
    Permission.STATEMENT_TEAM,
}
# Two tables: the roles are string enums, and both have a "manager".
EVENT_ROLE_PERMISSIONS: dict[EventRole, frozenset[Permission]] = {
    EventRole.MANAGER: frozenset(EVENT_PERMISSIONS),
    EventRole.DOOR: frozenset({Permission.ATTENDEES_LIST, Permission.CHECK_IN}),
    EventRole.VIEWER: frozenset(
        {Permission.ATTENDEES_LIST, Permission.ATTENDEES_DETAILS, Permission.EVENT_PREVIEW}
    ),
}
STATEMENT_ROLE_PERMISSIONS: dict[StatementRole, frozenset[Permission]] = {
    StatementRole.MANAGER: frozenset(STATEMENT_PERMISSIONS),
    StatementRole.MODERATOR: frozenset(
        {Permission.STATEMENT_PREVIEW, Permission.STATEMENT_MODERATE}
    ),
}


def event_role(organiser: Organiser, event_id: int) -> EventRole | None:
    return db.session.scalar(
        select(EventMember.role).where(
            EventMember.event_id == event_id, EventMember.organiser_id == organiser.id
        )
    )


def statement_role(organiser: Organiser, statement_id: int) -> StatementRole | None:
    return db.session.scalar(
        select(StatementMember.role).where(
            StatementMember.statement_id == statement_id,
            StatementMember.organiser_id == organiser.id,
        )
    )


def may_see(
    organiser: Organiser, event_id: int | None = None, statement_id: int | None = None
) -> bool:
    """Whether the account may know the event (or statement) exists: admins and its team."""
    if organiser.is_admin:
        return True
    if event_id is not None:
        return event_role(organiser, event_id) is not None
    return statement_id is not None and statement_role(organiser, statement_id) is not None


def may(
    organiser: Organiser,
    permission: Permission,
    event_id: int | None = None,
    statement_id: int | None = None,
) -> bool:
    """Whether the account may do ``permission`` on that event or statement (or, for the
    permissions that name none, at all)."""
    if organiser.is_admin:
        return True
    if permission in (Permission.EVENT_CREATE, Permission.STATEMENT_CREATE):
        return may_create(organiser)
    if permission is Permission.STATEMENT_LIST:
        return True
    if permission in EVENT_PERMISSIONS and event_id is not None:
        role = event_role(organiser, event_id)
        return role is not None and permission in EVENT_ROLE_PERMISSIONS[role]
    if permission in STATEMENT_PERMISSIONS and statement_id is not None:
        held = statement_role(organiser, statement_id)
        return held is not None and permission in STATEMENT_ROLE_PERMISSIONS[held]
    return False


def may_create(organiser: Organiser) -> bool:
    """Whether the account may create events and statements: an admin, an account that
    manages at least one, or an organiser account an admin made with no role yet. An account
    that holds only door, viewer or moderator roles may not."""
    roles = set(
        db.session.scalars(select(EventMember.role).where(EventMember.organiser_id == organiser.id))
    )
    roles |= set(
        db.session.scalars(
            select(StatementMember.role).where(StatementMember.organiser_id == organiser.id)
        )
    )
    return not roles or bool(roles & {EventRole.MANAGER, StatementRole.MANAGER})


def visible_event_ids(organiser: Organiser) -> set[int] | None:
    """The events the account may see; ``None`` for an admin, who sees every one."""
    if organiser.is_admin:
        return None
    return set(
        db.session.scalars(
            select(EventMember.event_id).where(EventMember.organiser_id == organiser.id)
        )
    )


def visible_statement_ids(organiser: Organiser) -> set[int] | None:
    """The statements the account may see; ``None`` for an admin, who sees every one."""
    if organiser.is_admin:
        return None
    return set(
        db.session.scalars(
            select(StatementMember.statement_id).where(StatementMember.organiser_id == organiser.id)
        )
    )


class LastManager(ValueError):
    """The change would leave the event or statement without a manager."""


def event_members(event_id: int) -> list[EventMember]:
    return list(
        db.session.scalars(
            select(EventMember).where(EventMember.event_id == event_id).order_by(EventMember.id)
        )
    )


def statement_members(statement_id: int) -> list[StatementMember]:
    return list(
        db.session.scalars(
            select(StatementMember)
            .where(StatementMember.statement_id == statement_id)
            .order_by(StatementMember.id)
        )
    )


def grant_event_role(
    organiser_id: int, event_id: int, role: EventRole, *, by_admin: bool = True
) -> None:
    """Give the account ``role`` on the event, replacing the one it had. Raises
    ``LastManager`` when that takes the event's last manager away, unless an admin does it."""
    with unit_of_work():
        member = db.session.scalar(
            select(EventMember)
            .where(EventMember.event_id == event_id, EventMember.organiser_id == organiser_id)
            .with_for_update()
        )
        if member is None:
            db.session.add(EventMember(event_id=event_id, organiser_id=organiser_id, role=role))
            return
        if member.role is EventRole.MANAGER and role is not EventRole.MANAGER and not by_admin:
            _keep_an_event_manager(event_id)
        member.role = role


def copy_event_team(source_id: int, copy_id: int) -> None:
    """Give the copy of an event the source's team: each account, with the same role."""
    with unit_of_work():
        db.session.add_all(
            EventMember(event_id=copy_id, organiser_id=organiser_id, role=role)
            for organiser_id, role in db.session.execute(
                select(EventMember.organiser_id, EventMember.role).where(
                    EventMember.event_id == source_id
                )
            )
        )
        db.session.flush()


def revoke_event_role(organiser_id: int, event_id: int, *, by_admin: bool = True) -> None:
    """Take the account off the event's team (``LastManager`` as ``grant_event_role``)."""
    with unit_of_work():
        role = db.session.scalar(
            select(EventMember.role).where(
                EventMember.event_id == event_id, EventMember.organiser_id == organiser_id
            )
        )
        if role is EventRole.MANAGER and not by_admin:
            _keep_an_event_manager(event_id)
        db.session.execute(
            delete(EventMember).where(
                EventMember.event_id == event_id, EventMember.organiser_id == organiser_id
            )
        )


def _keep_an_event_manager(event_id: int) -> None:
    managers = db.session.scalar(
        select(func.count())
        .select_from(EventMember)
        .where(EventMember.event_id == event_id, EventMember.role == EventRole.MANAGER)
    )
    if (managers or 0) <= 1:
        raise LastManager(event_id)


def grant_statement_role(
    organiser_id: int, statement_id: int, role: StatementRole, *, by_admin: bool = True
) -> None:
    """Give the account ``role`` on the statement (as ``grant_event_role``)."""
    with unit_of_work():
        member = db.session.scalar(
            select(StatementMember)
            .where(
                StatementMember.statement_id == statement_id,
                StatementMember.organiser_id == organiser_id,
            )
            .with_for_update()
        )
        if member is None:
            db.session.add(
                StatementMember(statement_id=statement_id, organiser_id=organiser_id, role=role)
            )
            return
        if (
            member.role is StatementRole.MANAGER
            and role is not StatementRole.MANAGER
            and not by_admin
        ):
            _keep_a_statement_manager(statement_id)
        member.role = role


def revoke_statement_role(organiser_id: int, statement_id: int, *, by_admin: bool = True) -> None:
    """Take the account off the statement's team (as ``revoke_event_role``)."""
    with unit_of_work():
        role = db.session.scalar(
            select(StatementMember.role).where(
                StatementMember.statement_id == statement_id,
                StatementMember.organiser_id == organiser_id,
            )
        )
        if role is StatementRole.MANAGER and not by_admin:
            _keep_a_statement_manager(statement_id)
        db.session.execute(
            delete(StatementMember).where(
                StatementMember.statement_id == statement_id,
                StatementMember.organiser_id == organiser_id,
            )
        )


def _keep_a_statement_manager(statement_id: int) -> None:
    managers = db.session.scalar(
        select(func.count())
        .select_from(StatementMember)
        .where(
            StatementMember.statement_id == statement_id,
            StatementMember.role == StatementRole.MANAGER,
        )
    )
    if (managers or 0) <= 1:
        raise LastManager(statement_id)


def pending_event_invitations(event_id: int, now: datetime) -> list[tuple[str, EventRole]]:
    """(email, role) of every invitation to the event still open: not accepted, not revoked,
    not expired."""
    return [
        (email, role)
        for email, role in db.session.execute(
            select(Invitation.email, InvitedEventRole.role)
            .join(InvitedEventRole, InvitedEventRole.invitation_id == Invitation.id)
            .where(InvitedEventRole.event_id == event_id, *_open_invitation(now))
            .order_by(Invitation.created_at)
        )
    ]


def pending_statement_invitations(
    statement_id: int, now: datetime
) -> list[tuple[str, StatementRole]]:
    """(email, role) of every invitation to the statement still open."""
    return [
        (email, role)
        for email, role in db.session.execute(
            select(Invitation.email, InvitedStatementRole.role)
            .join(InvitedStatementRole, InvitedStatementRole.invitation_id == Invitation.id)
            .where(InvitedStatementRole.statement_id == statement_id, *_open_invitation(now))
            .order_by(Invitation.created_at)
        )
    ]


def _open_invitation(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )

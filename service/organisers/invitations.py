"""Invitations to an organiser's account: who may send them, the mailed link, accepting."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from service.access import service as access
from service.access.models import (
    EventMember,
    EventRole,
    Invitation,
    InvitedEventRole,
    InvitedStatementRole,
    StatementMember,
    StatementRole,
)
from service.access.service import Permission
from service.audit import service as audit
from service.db import unit_of_work
from service.events.models import Event
from service.extensions import db
from service.identity import normalise_email
from service.mail import service as mail
from service.mail.models import MessageKind
from service.organisers import service as accounts
from service.organisers.models import Organiser
from service.security import read_id_link, sign_link
from service.statements.models import Statement
from service.urls import absolute_url

INVITATION_DAYS = 7
_PURPOSE = "invitation"


class InvitationError(ValueError):
    """The invitation cannot be sent as asked; the message says why."""


class NotAllowed(InvitationError):
    """The inviter may not give these roles."""


def may_invite(
    inviter: Organiser,
    *,
    is_admin: bool = False,
    event_ids: set[int] | frozenset[int] = frozenset(),
    statement_ids: set[int] | frozenset[int] = frozenset(),
) -> bool:
    """Whether ``inviter`` may give these roles: whoever may manage each event's and each
    statement's team (``access``'s rule); admin only an admin."""
    if is_admin and not inviter.is_admin:
        return False
    return all(access.may(inviter, Permission.EVENT_TEAM, event_id=i) for i in event_ids) and all(
        access.may(inviter, Permission.STATEMENT_TEAM, statement_id=i) for i in statement_ids
    )


def invitable(organiser: Organiser) -> tuple[list[Event], list[Statement]]:
    """The events and statements ``organiser`` may invite people to, by title."""
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc()))
    statements = db.session.scalars(select(Statement).order_by(Statement.title))
    return (
        [event for event in events if may_invite(organiser, event_ids={event.id})],
        [item for item in statements if may_invite(organiser, statement_ids={item.id})],
    )


def invite(
    email: str,
    *,
    invited_by: Organiser | None,
    is_admin: bool,
    event_roles: dict[int, EventRole],
    statement_roles: dict[int, StatementRole],
    now: datetime,
    language: str = "",
) -> Invitation:
    """Record an invitation and queue its mail, in ``language`` (default: the site's).
    ``invited_by`` None: the command line, which may give any role."""
    if not (is_admin or event_roles or statement_roles):
        raise InvitationError("an invitation needs a role on an event or statement, or admin")
    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvitationError(f"{email!r} is not an email address") from None
    if invited_by is not None and not may_invite(
        invited_by,
        is_admin=is_admin,
        event_ids=set(event_roles),
        statement_ids=set(statement_roles),
    ):
        raise NotAllowed("these roles are not the inviter's to give")
    with unit_of_work():
        invitation = Invitation(
            email=normalise_email(address),
            is_admin=is_admin,
            invited_by_id=invited_by.id if invited_by is not None else None,
            created_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
            event_roles=[
                InvitedEventRole(event_id=event_id, role=role)
                for event_id, role in event_roles.items()
            ],
            statement_roles=[
                InvitedStatementRole(statement_id=statement_id, role=role)
                for statement_id, role in statement_roles.items()
            ],
        )
        db.session.add(invitation)
        db.session.flush()
        mail.queue_message(
            kind=MessageKind.ACCOUNT,
            dedupe_key=f"invitation:{invitation.id}",
            to=invitation.email,
            name="",
            language=language or current_app.config["BABEL_DEFAULT_LOCALE"],
            template="organisers/invitation",
            params={"invitation_id": invitation.id},
            now=now,
        )
        audit.record("invitation.sent", invited_by, detail=_roles_detail(invitation), now=now)
    return invitation


def roles_by_slug(
    role: str | None, event_slugs: tuple[str, ...], statement_slugs: tuple[str, ...]
) -> tuple[dict[int, EventRole], dict[int, StatementRole]]:
    """``role`` on the events and statements with these slugs, for ``invite``;
    ``InvitationError`` for an unknown slug or a role that does not fit."""
    if (event_slugs or statement_slugs) and role is None:
        raise InvitationError("say which role (--role)")
    event_roles: dict[int, EventRole] = {}
    statement_roles: dict[int, StatementRole] = {}
    for slug in event_slugs:
        event_id = db.session.scalar(select(Event.id).where(Event.slug == slug))
        if event_id is None:
            raise InvitationError(f"no event with the slug {slug!r}")
        if role not in {each.value for each in EventRole}:
            raise InvitationError(f"an event's role is manager, door or viewer, not {role}")
        event_roles[event_id] = EventRole(role)
    for slug in statement_slugs:
        statement_id = db.session.scalar(select(Statement.id).where(Statement.slug == slug))
        if statement_id is None:
            raise InvitationError(f"no statement with the slug {slug!r}")
        if role not in {each.value for each in StatementRole}:
            raise InvitationError(f"a statement's role is manager or moderator, not {role}")
        statement_roles[statement_id] = StatementRole(role)
    return event_roles, statement_roles


def _roles_detail(invitation: Invitation) -> str:
    """The roles an invitation brings, in words without the address."""
    parts = [f"invitation {invitation.id}"]
    if invitation.is_admin:
        parts.append("admin")
    parts += [f"event {role.event_id}: {role.role}" for role in invitation.event_roles]
    parts += [f"statement {role.statement_id}: {role.role}" for role in invitation.statement_roles]
    return "; ".join(parts)


def invitation_url(invitation: Invitation) -> str:
    token = sign_link(_PURPOSE, [invitation.id, invitation.link_secret])
    return absolute_url("welcome.accept", token=token)


def usable_invitation(token: str, now: datetime) -> Invitation | None:
    """The invitation a link is for while it can still be accepted; None when the link is
    forged, expired, used or revoked (the same None: the page says no more)."""
    linked = read_id_link(_PURPOSE, token, max_age=INVITATION_DAYS * 24 * 3600)
    if linked is None:
        return None
    invitation_id, secret = linked
    invitation = db.session.get(Invitation, invitation_id)
    if (
        invitation is None
        or not hmac.compare_digest(invitation.link_secret, secret)
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        return None
    return invitation


def account_exists(invitation: Invitation) -> bool:
    return accounts.find_organiser(invitation.email) is not None


def accept_as_new(invitation: Invitation, *, name: str, password: str, now: datetime) -> Organiser:
    """Create the invitee's account with their own password and the invited roles.
    ``AccountError`` if the address has an account already or the password is too short."""
    with unit_of_work():  # the account and its roles, or neither
        organiser = accounts.create_organiser(
            invitation.email, password, name=name, admin=invitation.is_admin
        )
        db.session.flush()
        _take_roles(invitation, organiser, now)
    return organiser


def accept_as_existing(invitation: Invitation, organiser: Organiser, now: datetime) -> bool:
    """Add the invited roles to the logged-in account the invitation was sent to; False when
    it was sent to another address."""
    if organiser.email != invitation.email:
        return False
    with unit_of_work():
        _take_roles(invitation, organiser, now)
    return True


def _take_roles(invitation: Invitation, organiser: Organiser, now: datetime) -> None:
    db.session.refresh(invitation, with_for_update=True)  # twice at once: one wins
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise InvitationError("the invitation was used or revoked meanwhile")
    invitation.accepted_at = now
    if invitation.is_admin:
        organiser.is_admin = True
    for invited in invitation.event_roles:
        member = db.session.scalar(
            select(EventMember).where(
                EventMember.event_id == invited.event_id,
                EventMember.organiser_id == organiser.id,
            )
        )
        if member is None:
            db.session.add(
                EventMember(event_id=invited.event_id, organiser_id=organiser.id, role=invited.role)
            )
        else:
            member.role = invited.role
    for invited_statement in invitation.statement_roles:
        statement_member = db.session.scalar(
            select(StatementMember).where(
                StatementMember.statement_id == invited_statement.statement_id,
                StatementMember.organiser_id == organiser.id,
            )
        )
        if statement_member is None:
            db.session.add(
                StatementMember(
                    statement_id=invited_statement.statement_id,
                    organiser_id=organiser.id,
                    role=invited_statement.role,
                )
            )
        else:
            statement_member.role = invited_statement.role
    audit.record("invitation.accepted", organiser, detail=f"invitation {invitation.id}", now=now)


def pending_invitations(viewer: Organiser, now: datetime) -> list[Invitation]:
    """Invitations not yet accepted, revoked or expired: all of them for an admin, the ones
    they sent for anyone else."""
    query = (
        select(Invitation)
        .where(
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    if not viewer.is_admin:
        query = query.where(Invitation.invited_by_id == viewer.id)
    return list(db.session.scalars(query))


def invited_to(invitation: Invitation, language: str) -> list[tuple[str, str]]:
    """(title, role) of each event, then each statement, an invitation gives a role on."""
    return [
        *(
            (db.session.get(Event, role.event_id).localised("title", language), role.role)
            for role in invitation.event_roles
        ),
        *(
            (db.session.get(Statement, role.statement_id).localised("title", language), role.role)
            for role in invitation.statement_roles
        ),
    ]


def revoke(invitation_id: int, viewer: Organiser, now: datetime) -> bool:
    """Revoke a pending invitation the viewer may see (``pending_invitations``); its link
    stops working. False when there is no such invitation."""
    with unit_of_work():
        invitation = db.session.get(Invitation, invitation_id, with_for_update=True)
        if (
            invitation is None
            or invitation.accepted_at is not None
            or invitation.revoked_at is not None
            or not (viewer.is_admin or invitation.invited_by_id == viewer.id)
        ):
            return False
        invitation.revoked_at = now
        audit.record("invitation.revoked", viewer, detail=f"invitation {invitation.id}", now=now)
    return True


@mail.message_builder("organisers/invitation")
def invitation_content(params: dict[str, Any], memo: dict[Any, Any]) -> mail.MessageContent:
    """The link and the roles, as they are when the message goes out."""
    invitation = db.session.get(Invitation, params["invitation_id"])
    if invitation is None:
        raise LookupError(f"invitation {params['invitation_id']} no longer exists")
    inviter = (
        db.session.get(Organiser, invitation.invited_by_id) if invitation.invited_by_id else None
    )
    return mail.MessageContent(
        {
            "invitation": invitation,
            "inviter": (inviter.name or inviter.email) if inviter else "",
            "events": [
                (db.session.get(Event, role.event_id), role.role) for role in invitation.event_roles
            ],
            "statements": [
                (db.session.get(Statement, role.statement_id), role.role)
                for role in invitation.statement_roles
            ],
            "accept_url": invitation_url(invitation),
            "link_days": INVITATION_DAYS,
        }
    )

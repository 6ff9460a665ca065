"""The team pages of an event and of a statement: who is on it with which role, changing a
role, taking someone off, adding an existing account by email (a new person gets an
invitation instead), and the invitations still open. Managers and admins only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from service.access import service as access
from service.access.forms import (
    EVENT_ROLE_LABELS,
    STATEMENT_ROLE_LABELS,
    AddMemberForm,
    RoleForm,
    role_choices,
)
from service.access.guard import management_blueprint, requires
from service.access.models import EventRole, StatementRole
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.events import service as events
from service.events.models import Event
from service.organisers import service as organisers
from service.organisers.models import Organiser
from service.statements import service as statements
from service.statements.models import Statement

bp = management_blueprint(
    "team", __name__, find_event_id=events.event_id_of, find_statement_id=statements.statement_id_of
)


@bp.route("/events/<slug>/team", methods=["GET", "POST"])
@requires(Permission.EVENT_TEAM)
def event_team(slug: str) -> str | BaseResponse | tuple[str, int]:
    event = _event(slug)
    form = AddMemberForm()
    form.role.choices = role_choices(EVENT_ROLE_LABELS)
    if form.validate_on_submit():
        account = organisers.find_organiser(form.email.data)
        if account is None or not account.active:
            form.email.errors.append(_("No active account has this address: invite them."))
        else:
            role = EventRole(form.role.data)
            access.grant_event_role(account.id, event.id, role, by_admin=current_user.is_admin)
            audit.record("team.add", current_user, event=event, detail=f"role {role.value}")
            flash(_("%(email)s is on the team.", email=account.email), "ok")
            return redirect(url_for(".event_team", slug=slug))
    return render_template(
        "access/team.html",
        subject=event,
        kind="event",
        members=access.event_members(event.id),
        labels=EVENT_ROLE_LABELS,
        pending=access.pending_event_invitations(event.id, utc_now()),
        form=form,
        role_form=RoleForm(),
    ), (400 if form.errors else 200)


@bp.post("/events/<slug>/team/<int:organiser_id>/role")
@requires(Permission.EVENT_TEAM)
def event_member_role(slug: str, organiser_id: int) -> BaseResponse:
    event = _event(slug)
    form = RoleForm()
    form.role.choices = role_choices(EVENT_ROLE_LABELS)
    if not form.validate() or access.event_role(_member(organiser_id), event.id) is None:
        abort(400)
    role = EventRole(form.role.data)
    try:
        access.grant_event_role(organiser_id, event.id, role, by_admin=current_user.is_admin)
    except access.LastManager:
        flash(_("Every event needs a manager: make someone else manager first."), "error")
    else:
        audit.record("team.role", current_user, event=event, detail=f"role {role.value}")
        flash(_("Role changed."), "ok")
    return redirect(url_for(".event_team", slug=slug))


@bp.post("/events/<slug>/team/<int:organiser_id>/remove")
@requires(Permission.EVENT_TEAM)
def remove_event_member(slug: str, organiser_id: int) -> BaseResponse:
    event = _event(slug)
    if access.event_role(_member(organiser_id), event.id) is None:
        abort(404)
    try:
        access.revoke_event_role(organiser_id, event.id, by_admin=current_user.is_admin)
    except access.LastManager:
        flash(_("Every event needs a manager: make someone else manager first."), "error")
    else:
        audit.record("team.remove", current_user, event=event)
        flash(_("Taken off the team."), "ok")
    return redirect(url_for(".event_team", slug=slug))


@bp.route("/statements/<slug>/team", methods=["GET", "POST"])
@requires(Permission.STATEMENT_TEAM)
def statement_team(slug: str) -> str | BaseResponse | tuple[str, int]:
    statement = _statement(slug)
    form = AddMemberForm()
    form.role.choices = role_choices(STATEMENT_ROLE_LABELS)
    if form.validate_on_submit():
        account = organisers.find_organiser(form.email.data)
        if account is None or not account.active:
            form.email.errors.append(_("No active account has this address: invite them."))
        else:
            role = StatementRole(form.role.data)
            access.grant_statement_role(
                account.id, statement.id, role, by_admin=current_user.is_admin
            )
            audit.record("team.add", current_user, statement=statement, detail=f"role {role.value}")
            flash(_("%(email)s is on the team.", email=account.email), "ok")
            return redirect(url_for(".statement_team", slug=slug))
    return render_template(
        "access/team.html",
        subject=statement,
        kind="statement",
        members=access.statement_members(statement.id),
        labels=STATEMENT_ROLE_LABELS,
        pending=access.pending_statement_invitations(statement.id, utc_now()),
        form=form,
        role_form=RoleForm(),
    ), (400 if form.errors else 200)


@bp.post("/statements/<slug>/team/<int:organiser_id>/role")
@requires(Permission.STATEMENT_TEAM)
def statement_member_role(slug: str, organiser_id: int) -> BaseResponse:
    statement = _statement(slug)
    form = RoleForm()
    form.role.choices = role_choices(STATEMENT_ROLE_LABELS)
    if not form.validate() or access.statement_role(_member(organiser_id), statement.id) is None:
        abort(400)
    role = StatementRole(form.role.data)
    try:
        access.grant_statement_role(
            organiser_id, statement.id, role, by_admin=current_user.is_admin
        )
    except access.LastManager:
        flash(_("Every statement needs a manager: make someone else manager first."), "error")
    else:
        audit.record("team.role", current_user, statement=statement, detail=f"role {role.value}")
        flash(_("Role changed."), "ok")
    return redirect(url_for(".statement_team", slug=slug))


@bp.post("/statements/<slug>/team/<int:organiser_id>/remove")
@requires(Permission.STATEMENT_TEAM)
def remove_statement_member(slug: str, organiser_id: int) -> BaseResponse:
    statement = _statement(slug)
    if access.statement_role(_member(organiser_id), statement.id) is None:
        abort(404)
    try:
        access.revoke_statement_role(organiser_id, statement.id, by_admin=current_user.is_admin)
    except access.LastManager:
        flash(_("Every statement needs a manager: make someone else manager first."), "error")
    else:
        audit.record("team.remove", current_user, statement=statement)
        flash(_("Taken off the team."), "ok")
    return redirect(url_for(".statement_team", slug=slug))


def _event(slug: str) -> Event:
    event = events.get_event(slug)
    if event is None:
        abort(404)
    return event


def _statement(slug: str) -> Statement:
    statement = statements.get_statement(slug)
    if statement is None:
        abort(404)
    return statement


def _member(organiser_id: int) -> Organiser:
    account = organisers.get_organiser(organiser_id)
    if account is None:
        abort(404)
    return account

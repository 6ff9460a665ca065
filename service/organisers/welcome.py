"""Invitations (sending, the pending list, accepting) and resetting a forgotten password."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from service.access.models import EventRole, Invitation, StatementRole
from service.db import utc_now
from service.events.models import Event
from service.extensions import limiter
from service.forms import Form
from service.i18n import current_language
from service.organisers import invitations, password_reset
from service.organisers import service as accounts
from service.organisers.forms import (
    AcceptForm,
    ForgotPasswordForm,
    InvitationForm,
    ResetPasswordForm,
)
from service.security import forbid_storing
from service.statements.models import Statement

bp = Blueprint("welcome", __name__, url_prefix="/organisers")
bp.after_request(forbid_storing)

SECOND_FACTOR_SETUP = "second_factor.setup"


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _invitation_form() -> tuple[InvitationForm, list[Event], list[Statement]]:
    """The form with the events and statements the account may invite to as its choices;
    ``?event=<slug>`` or ``?statement=<slug>`` ticks one."""
    events, statements = invitations.invitable(current_user)
    form = InvitationForm()
    language = current_language()
    form.events.choices = [
        SelectChoice(event.id, event.localised("title", language)) for event in events
    ]
    form.statements.choices = [
        SelectChoice(statement.id, statement.localised("title", language))
        for statement in statements
    ]
    if request.method == "GET":
        event_slug, statement_slug = request.args.get("event"), request.args.get("statement")
        form.events.data = [event.id for event in events if event.slug == event_slug]
        form.statements.data = [
            statement.id for statement in statements if statement.slug == statement_slug
        ]
    return form, events, statements


@bp.route("/invitations/new", methods=["GET", "POST"])
@login_required
def new_invitation() -> str | BaseResponse | tuple[str, int]:
    form, events, statements = _invitation_form()
    if not (current_user.is_admin or events or statements):
        abort(403)  # manages nothing: has nobody to invite anyone to
    if form.validate_on_submit():
        is_admin = bool(form.admin.data) and current_user.is_admin
        event_role = EventRole(form.event_role.data)
        statement_role = StatementRole(form.statement_role.data)
        try:
            invitations.invite(
                form.email.data,
                invited_by=current_user,
                is_admin=is_admin,
                event_roles=dict.fromkeys(form.events.data, event_role),
                statement_roles=dict.fromkeys(form.statements.data, statement_role),
                now=utc_now(),
                language=current_language(),
            )
        except invitations.InvitationError:
            form.events.errors.append(_("Choose at least one event or statement."))
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data.strip()), "ok")
            return redirect(url_for(".invitations"))
    return render_template("organisers/invite.html", form=form), (400 if form.errors else 200)


@bp.get("/invitations", endpoint="invitations")
@login_required
def pending_invitations() -> str:
    pending = invitations.pending_invitations(current_user, utc_now())
    language = current_language()
    return render_template(
        "organisers/invitations.html",
        pending=[
            (invitation, invitations.invited_to(invitation, language)) for invitation in pending
        ],
    )


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int) -> BaseResponse:
    if not invitations.revoke(invitation_id, current_user, utc_now()):
        abort(404)
    flash(_("Invitation revoked: its link no longer works."), "ok")
    return redirect(url_for(".invitations"))


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def accept(token: str) -> str | BaseResponse | tuple[str, int]:
    now = utc_now()
    invitation = invitations.usable_invitation(token, now)
    if invitation is None:
        return render_template("organisers/link_unusable.html"), 404
    if invitations.account_exists(invitation):
        return _accept_as_existing(invitation, token)
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            organiser = invitations.accept_as_new(
                invitation, name=form.name.data, password=form.password.data, now=now
            )
        except (accounts.AccountError, invitations.InvitationError):
            return render_template("organisers/link_unusable.html"), 404
        session.clear()  # a fresh session at login, as the login page does
        login_user(organiser)
        return _welcome_in()
    return render_template(
        "organisers/accept.html", form=form, invitation=invitation, existing=False
    ), (400 if form.errors else 200)


def _accept_as_existing(invitation: Invitation, token: str) -> str | BaseResponse | tuple[str, int]:
    """The address has an account: its owner logs in, then takes the roles with one click."""
    if not current_user.is_authenticated:
        flash(_("Log in to accept the invitation."), "ok")
        return redirect(url_for("organisers.login", next=url_for(".accept", token=token)))
    form = Form()  # the button: a CSRF token and nothing else
    if form.validate_on_submit():
        try:
            accepted = invitations.accept_as_existing(invitation, current_user, utc_now())
        except invitations.InvitationError:  # used or revoked since the page was loaded
            accepted = False
        if not accepted:
            return render_template("organisers/link_unusable.html"), 404
        flash(_("Invitation accepted: the new roles are yours."), "ok")
        return redirect(url_for("organisers.dashboard"))
    return render_template(
        "organisers/accept.html",
        form=form,
        invitation=invitation,
        existing=True,
        other_account=current_user.email != invitation.email,
    )


def _welcome_in() -> BaseResponse:
    if current_app.config["REQUIRE_2FA"]:
        return redirect(url_for(SECOND_FACTOR_SETUP))
    flash(_("Welcome! Your account is ready."), "ok")
    return redirect(url_for("organisers.dashboard"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password() -> str:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data, utc_now(), current_language())
        return render_template("organisers/reset_sent.html")
    return render_template("organisers/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str) -> str | BaseResponse | tuple[str, int]:
    organiser = password_reset.account_from_link(token)
    if organiser is None:
        return render_template("organisers/link_unusable.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        password_reset.reset_password(organiser, form.password.data, utc_now())
        flash(_("Your password is changed and every session ended. Log in with it."), "ok")
        return redirect(url_for("organisers.login"))
    return render_template("organisers/reset.html", form=form), (400 if form.errors else 200)

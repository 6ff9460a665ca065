"""The organisers' area: login, logout, password, the dashboard, retrying failed mail and
(for admins) accounts. Each area's management pages live in that area (``service.manage``)."""

from __future__ import annotations

from datetime import date
from functools import wraps
from typing import Any

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
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from service.access import service as access
from service.audit import service as audit
from service.csv_export import recent_exports
from service.db import utc_now
from service.extensions import limiter
from service.i18n import safe_next
from service.mail import service as mail
from service.organisers import second_factor, service, totp
from service.organisers.forms import LoginForm, PasswordForm
from service.registration import chart, roster
from service.security import forbid_storing
from service.statements import moderation
from service.statements import service as statements

bp = Blueprint("organisers", __name__, url_prefix="/organisers")
# Every organisers' page shows personal data or the way to it: no cache keeps a copy.
bp.after_request(forbid_storing)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _login_account() -> str:
    """The account a login tries, as the rate limiter counts it, from whatever address: the
    email's keyed hash (``mail.address_hash``), so the limiter's storage (Redis) holds no
    address, nor a plain hash to test guesses against."""
    return "login-account:" + mail.address_hash(request.form.get("email", ""))


def _login_failed(response: BaseResponse) -> bool:
    return response.status_code == 401


def admin_required(view: Any) -> Any:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(
    _login_account_limit, methods=["POST"], key_func=_login_account, deduct_when=_login_failed
)
def login() -> str | BaseResponse | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for(".dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        organiser = service.authenticate(form.email.data, form.password.data, utc_now())
        if organiser is not None:
            target = safe_next(request.args.get("next"), default=url_for(".dashboard"))
            if totp.is_enabled(organiser):  # the password is right: the code comes next
                return second_factor.begin_pending_login(organiser, target)
            session.clear()  # a fresh session at login: nothing from before carries over
            login_user(organiser)
            return redirect(target)
        flash(_("That email and password do not match an active account."), "error")
        return render_template("organisers/login.html", form=form), 401
    return render_template("organisers/login.html", form=form)


@bp.post("/logout")
def logout() -> BaseResponse:
    if current_user.is_authenticated:
        audit.record("logout", current_user)
        service.end_sessions(current_user)
    logout_user()
    session.clear()
    return redirect(url_for(".login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | BaseResponse:
    form = PasswordForm()
    if form.validate_on_submit():
        if service.change_password(current_user, form.current.data, form.new.data):
            login_user(current_user)  # this session continues under the new key
            flash(_("Your password is changed. Other sessions have been logged out."), "ok")
            return redirect(url_for(".dashboard"))
        form.current.errors.append(_("That is not your current password."))
    return render_template("organisers/password.html", form=form)


@bp.app_template_global()
def chart_day(day: date, format: str = "d MMM") -> str:
    """A day on the chart in the page's language: "3 Mar" in English, "3 mar" in Spanish."""
    return format_date(day, format)


@bp.get("/")
@login_required
def dashboard() -> str:
    now = utc_now()
    listed = service.events_for_organisers(now, access.visible_event_ids(current_user))
    visible_statements = access.visible_statement_ids(current_user)
    listed_statements = [
        statement
        for statement in statements.list_statements()
        if visible_statements is None or statement.id in visible_statements
    ]
    return render_template(
        "organisers/dashboard.html",
        statements=listed_statements,
        statement_counts={
            statement.id: moderation.signature_counts(statement.id)
            for statement in listed_statements
        },
        events=listed,
        counts={event.id: roster.attendee_counts(event.id) for event in listed},
        part_counts={event.id: roster.part_counts(event, now) for event in listed},
        charts={
            event.id: drawn
            for event in listed
            if event.ends_at >= now and (drawn := chart.registrations_chart(event, now))
        },
        exports=recent_exports(
            event_ids=access.visible_event_ids(current_user), statement_ids=visible_statements
        ),
        mail_status=mail.mail_status(),
        now=now,
    )


@bp.post("/mail/retry-failed")
@login_required
def retry_failed_mail() -> BaseResponse:
    retried = mail.retry_failed(utc_now())
    flash(_("%(count)d message(s) will be tried again.", count=retried), "ok")
    return redirect(url_for(".dashboard"))


@bp.get("/accounts")
@admin_required
def accounts() -> str:
    return render_template("organisers/accounts.html", organisers=service.list_organisers())


@bp.post("/accounts/<int:organiser_id>/active")
@admin_required
def set_account_active(organiser_id: int) -> BaseResponse:
    organiser = service.get_organiser(organiser_id)
    if organiser is None:
        abort(404)
    active = request.form.get("active") == "1"
    if not active and organiser.id == current_user.id:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for(".accounts"))
    try:
        service.set_active(organiser, active)
    except service.LastAdmin:
        flash(
            _(
                "%(email)s is the last active admin: make someone else admin first.",
                email=organiser.email,
            ),
            "error",
        )
        return redirect(url_for(".accounts"))
    audit.record(
        "accounts.enable" if active else "accounts.disable",
        current_user,
        detail=f"account {organiser.id}",
    )
    flash(
        _("Enabled %(email)s.", email=organiser.email)
        if active
        else _("Disabled %(email)s: logged out everywhere.", email=organiser.email),
        "ok",
    )
    return redirect(url_for(".accounts"))

"""The second factor's pages: the code asked for after the password, setting it up, recovery
codes and turning it off; and, with ``REQUIRE_2FA``, the gate that sends an account without
one to the set-up page."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from service.audit import service as audit
from service.db import utc_now
from service.extensions import limiter
from service.forms import Form, Required
from service.i18n import safe_next
from service.organisers import service, totp
from service.organisers.models import Organiser
from service.security import forbid_storing

bp = Blueprint("second_factor", __name__, url_prefix="/organisers/second-factor")
bp.after_request(forbid_storing)

# The session's record of an account whose password was right and whose code is awaited.
PENDING_KEY = "second_factor_pending"
PENDING_SECONDS = 5 * 60
# Pages an account without a second factor may open when the site requires one.
OPEN_WITHOUT_SECOND_FACTOR = {"second_factor.setup", "organisers.logout", "organisers.login"}


class CodeForm(Form):
    code = StringField(
        _l("Code"),
        validators=[Required(), Length(max=100)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
        description=_l("The six digits your app shows, or one of your recovery codes."),
    )


class ConfirmForm(Form):
    code = StringField(
        _l("Code from the app"),
        validators=[Required(), Length(max=100)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )


class PasswordCheckForm(Form):
    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )


class DisableForm(Form):
    password_or_code = PasswordField(
        _l("Your password, or a code from the app"),
        validators=[InputRequired(), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )


def begin_pending_login(organiser: Organiser, next_path: str) -> BaseResponse:
    """After the right password on an account with a second factor: remember the account for
    a few minutes (not logged in yet) and ask for the code."""
    session.clear()
    session[PENDING_KEY] = {
        "account": organiser.get_id(),
        "until": int(time.time()) + PENDING_SECONDS,
        "next": next_path,
    }
    return redirect(url_for("second_factor.code"))


def _pending_organiser() -> Organiser | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    return service.load_organiser(str(pending.get("account", "")))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _pending_account() -> str:
    """The account a code is tried for, as the rate limiter counts it, from any address."""
    pending = session.get(PENDING_KEY)
    account = pending.get("account", "") if isinstance(pending, dict) else ""
    return "second-factor-account:" + str(account).partition(":")[0]


def _code_refused(response: BaseResponse) -> bool:
    return response.status_code == 401


@bp.route("", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(
    _account_limit, methods=["POST"], key_func=_pending_account, deduct_when=_code_refused
)
def code() -> str | BaseResponse | tuple[str, int]:
    organiser = _pending_organiser()
    if organiser is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("organisers.login"))
    form = CodeForm()
    if form.validate_on_submit():
        now = utc_now()
        typed = form.code.data
        if totp.verify(organiser, typed, now) or totp.use_recovery_code(organiser, typed, now):
            target = safe_next(session[PENDING_KEY].get("next"), url_for("organisers.dashboard"))
            session.clear()  # a fresh session at login: nothing from before carries over
            login_user(organiser)
            audit.record("login", organiser, detail="with the second factor", now=now)
            return redirect(target)
        totp.record_failed_code(organiser, now)
        flash(_("That code does not match."), "error")
        return render_template("organisers/second_factor/code.html", form=form), 401
    return render_template("organisers/second_factor/code.html", form=form), (
        400 if form.errors else 200
    )


@bp.route("/setup", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
def setup() -> str | BaseResponse | tuple[str, int]:
    if totp.is_enabled(current_user):
        return render_template(
            "organisers/second_factor/settings.html",
            unused_codes=totp.unused_recovery_codes(current_user),
            regenerate_form=PasswordCheckForm(),
            disable_form=DisableForm(),
        )
    form = ConfirmForm()
    if form.validate_on_submit():
        codes = totp.confirm(current_user, form.code.data, utc_now())
        if codes is not None:
            flash(_("The second factor is on: each login now asks for a code."), "ok")
            return _show_recovery_codes(codes)
        form.code.errors.append(_("That code does not match."))
    secret = totp.pending_secret(current_user)
    uri = totp.provisioning_uri(secret, current_user.email, current_app.config["SITE_NAME"])
    return render_template(
        "organisers/second_factor/setup.html",
        form=form,
        secret=secret,
        qr=totp.qr_svg(uri, _("QR code for your authenticator app")),
        required=current_app.config["REQUIRE_2FA"],
    ), (400 if form.errors else 200)


@bp.post("/recovery-codes")
@login_required
@limiter.limit(_login_limit)
def recovery_codes() -> str | BaseResponse | tuple[str, int]:
    """New recovery codes, shown once; the settings page (``setup``) counts the unused ones."""
    if not totp.is_enabled(current_user):
        return redirect(url_for(".setup"))
    form = PasswordCheckForm()
    if form.validate_on_submit():
        codes = totp.regenerate_recovery_codes(current_user, form.password.data, utc_now())
        if codes:
            flash(_("New recovery codes: the old ones no longer work."), "ok")
            return _show_recovery_codes(codes)
        form.password.errors.append(_("That is not your current password."))
    return render_template(
        "organisers/second_factor/settings.html",
        unused_codes=totp.unused_recovery_codes(current_user),
        regenerate_form=form,
        disable_form=DisableForm(formdata=None),
    ), (400 if form.errors else 200)


@bp.route("/disable", methods=["POST"])
@login_required
@limiter.limit(_login_limit)
def disable() -> str | BaseResponse | tuple[str, int]:
    if not totp.is_enabled(current_user):
        return redirect(url_for(".setup"))
    form = DisableForm()
    if form.validate_on_submit():
        if totp.disable(current_user, form.password_or_code.data, utc_now()):
            flash(_("The second factor is off: logging in asks only for the password."), "ok")
            return redirect(url_for(".setup"))
        form.password_or_code.errors.append(_("That code does not match."))
    return render_template(
        "organisers/second_factor/settings.html",
        unused_codes=totp.unused_recovery_codes(current_user),
        regenerate_form=PasswordCheckForm(formdata=None),
        disable_form=form,
    ), 400


def _show_recovery_codes(codes: list[str]) -> str:
    return render_template(
        "organisers/second_factor/recovery_codes.html",
        codes=[totp.format_recovery_code(code) for code in codes],
    )


@bp.before_app_request
def require_second_factor() -> BaseResponse | None:
    """With ``REQUIRE_2FA``, a logged-in account without a confirmed second factor sees only
    the set-up page (and may log out): every other organiser page sends it there."""
    if not current_app.config["REQUIRE_2FA"] or not request.path.startswith("/organisers"):
        return None
    if request.endpoint in OPEN_WITHOUT_SECOND_FACTOR or not current_user.is_authenticated:
        return None
    if totp.is_enabled(current_user):
        return None
    return redirect(url_for("second_factor.setup"))

"""The organisers' area: login, dashboard, attendees, check-in, CSV export."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from service.db import utc_now
from service.events import service as events
from service.events.models import Event, EventStatus, Question, QuestionKind
from service.events.schema import EventDataError
from service.events.views import MAX_PAGE, render_event_page, status_label
from service.extensions import limiter
from service.i18n import safe_next
from service.mail import service as mail
from service.organisers import export, messages, retention, service
from service.organisers.event_form import EventForm, format_offsets
from service.organisers.forms import (
    AccountForm,
    ExportForm,
    LoginForm,
    MessageForm,
    PasswordForm,
    QuestionForm,
)
from service.registration import notifications
from service.registration import service as registration
from service.reminders import service as reminders
from service.security import forbid_storing
from service.statements import service as signatories
from service.text import render_markdown

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
            session.clear()  # a fresh session at login: nothing from before carries over
            login_user(organiser)
            return redirect(target)
        flash(_("That email and password do not match an active account."), "error")
        return render_template("organisers/login.html", form=form), 401
    return render_template("organisers/login.html", form=form)


@bp.post("/logout")
def logout() -> BaseResponse:
    if current_user.is_authenticated:
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


@bp.get("/")
@login_required
def dashboard() -> str:
    now = utc_now()
    listed = service.events_for_organisers(now)
    statements = signatories.list_statements()
    return render_template(
        "organisers/dashboard.html",
        statements=statements,
        statement_counts={
            statement.id: signatories.signature_counts(statement.id) for statement in statements
        },
        events=listed,
        counts={event.id: service.attendee_counts(event.id) for event in listed},
        charts={
            event.id: service.registrations_chart(event) for event in listed if event.ends_at >= now
        },
        exports=service.recent_exports(),
        mail_status=mail.mail_status(),
        now=now,
    )


@bp.post("/mail/retry-failed")
@login_required
def retry_failed_mail() -> BaseResponse:
    retried = mail.retry_failed(utc_now())
    flash(_("%(count)d message(s) will be tried again.", count=retried), "ok")
    return redirect(url_for(".dashboard"))


@bp.get("/events/<slug>/attendees")
@login_required
def attendees(slug: str) -> str:
    event = _event_or_404(slug)
    search = request.args.get("q", "").strip()[:200]
    try:
        status = service.AttendeeFilter(request.args.get("status", "all"))
    except ValueError:
        status = service.AttendeeFilter.ALL
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    rows, total = service.find_attendees(event.id, search, status, page)
    return render_template(
        "organisers/attendees.html",
        event=event,
        counts=service.attendee_counts(event.id),
        rows=rows,
        total=total,
        page=page,
        pages=max((total + service.ATTENDEES_PAGE_SIZE - 1) // service.ATTENDEES_PAGE_SIZE, 1),
        search=search,
        status=status,
        export_form=ExportForm(),
        columns=export.columns_for(event),
    )


@bp.post("/events/<slug>/attendees/<int:registration_id>/check-in")
@login_required
def check_in(slug: str, registration_id: int) -> BaseResponse:
    event = _event_or_404(slug)
    checked_in = request.form.get("checked_in") != "0"
    try:
        service.set_checked_in(registration_id, event.id, checked_in, utc_now())
    except LookupError:
        abort(404)
    return redirect(
        url_for(
            ".attendees",
            slug=slug,
            q=request.form.get("q") or None,
            status=request.form.get("status") or None,
            page=request.form.get("page") or None,
        )
        + f"#attendee-{registration_id}"
    )


@bp.post("/events/<slug>/attendees/<int:registration_id>/resend")
@login_required
def resend_confirmation(slug: str, registration_id: int) -> BaseResponse:
    _attendee_or_404(slug, registration_id)
    notifications.resend_confirmation(registration_id, utc_now())
    flash(_("The confirmation is on its way again."), "ok")
    return redirect(url_for(".attendees", slug=slug) + f"#attendee-{registration_id}")


@bp.post("/events/<slug>/attendees/<int:registration_id>/cancel")
@login_required
def cancel_registration(slug: str, registration_id: int) -> BaseResponse:
    _attendee_or_404(slug, registration_id)
    try:
        registration.cancel_registration(registration_id, utc_now())
    except registration.TryAgain:
        flash(_("Too busy just now: please try again."), "error")
    else:
        flash(_("Cancelled; the first person waiting, if any, has the place."), "ok")
    return redirect(url_for(".attendees", slug=slug))


def _attendee_or_404(slug: str, registration_id: int) -> None:
    event = _event_or_404(slug)
    if not service.is_attendee(event.id, registration_id):
        abort(404)


@bp.post("/events/<slug>/export.csv")
@login_required
def export_attendees(slug: str) -> Response | str | tuple[str, int]:
    event = _event_or_404(slug)
    form = ExportForm()
    form.columns.choices = [SelectChoice(c.name, c.name) for c in export.columns_for(event)]
    if not form.validate():
        flash(_("Tick at least one column to export."), "error")
        return redirect(url_for(".attendees", slug=slug))
    columns = export.choose_columns(event, form.columns.data)
    now = utc_now()
    chunks = export.export_attendees(
        event, columns, organiser_id=current_user.id, via="web", now=now, bom=form.bom.data
    )
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{export.export_filename(event, now)}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event() -> str | BaseResponse:
    form = EventForm()
    if request.method == "GET":
        form.organised_by.data = current_app.config["ORGANISATION_NAME"]
    return _save_event_form(form, None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_event(slug: str) -> str | BaseResponse:
    event = _event_or_404(slug)
    form = EventForm()
    if request.method == "GET":
        form.fill_from(event)
    return _save_event_form(form, event)


def _save_event_form(form: EventForm, event: Event | None) -> str | BaseResponse:
    if form.validate_on_submit():
        try:
            document = form.event_document(event.status.value if event else "draft")
            saved, changed = events.save_event(event.slug if event else None, document)
        except ValueError as problem:  # a time the clocks skip, or offsets it cannot read
            if not isinstance(problem, EventDataError):
                return render_template("organisers/event_form.html", form=form, event=event), 400
            for name, messages in problem.by_field.items():
                target = getattr(form, name, None)
                (target.errors if target is not None else form.form_errors).extend(messages)
            return render_template("organisers/event_form.html", form=form, event=event), 400
        if changed and form.notify.data and saved.status is EventStatus.PUBLISHED:
            told = registration.notify_registrants(saved, "event_changed", utc_now())
            flash(
                _("Saved. %(count)d registrant(s) will be told about the change.", count=told), "ok"
            )
        else:
            flash(_("Saved."), "ok")
        return redirect(url_for(".edit_event", slug=saved.slug))
    status = 400 if form.errors else 200
    return render_template("organisers/event_form.html", form=form, event=event), status


@bp.post("/events/<slug>/status")
@login_required
def change_status(slug: str) -> BaseResponse:
    event = _event_or_404(slug)
    try:
        status = EventStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    was_published = event.status is EventStatus.PUBLISHED
    events.set_status(event, status)
    if status is EventStatus.CANCELLED and was_published:
        told = registration.notify_registrants(event, "event_cancelled", utc_now())
        flash(_("Cancelled. %(count)d registrant(s) will be told.", count=told), "ok")
    else:
        flash(_("Now: %(status)s.", status=status_label(status)), "ok")
    return redirect(url_for(".edit_event", slug=slug))


@bp.get("/events/<slug>/preview")
@login_required
def preview_event(slug: str) -> str:
    """The public page as it will look, drafts included (for organisers' eyes only)."""
    return render_event_page(_event_or_404(slug), preview=True)


@bp.get("/events/<slug>/reminders")
@login_required
def scheduled_mail(slug: str) -> str:
    """Who gets which reminder, when, and what happened to it (``flask reminders upcoming``)."""
    event = _event_or_404(slug)
    return render_template(
        "organisers/reminders.html",
        event=event,
        planned=reminders.upcoming_reminders(event, utc_now()),
        retention=retention.removal_date(event),
    )


@bp.route("/events/<slug>/messages", methods=["GET", "POST"])
@login_required
def compose_message(slug: str) -> str | BaseResponse | tuple[str, int]:
    """Write, preview, test, then send a message to registrants or the waiting list."""
    event = _event_or_404(slug)
    form = MessageForm()
    preview = None
    if form.validate_on_submit():
        action = request.form.get("action", "preview")
        if action == "send":
            sent = messages.send_announcement(
                current_user,
                event,
                form.audience.data,
                form.subject.data,
                form.body.data,
                utc_now(),
            )
            flash(_("Sent to %(count)d person(s).", count=sent.recipients), "ok")
            return redirect(url_for(".compose_message", slug=slug))
        if action == "test":
            messages.send_test(current_user, event, form.subject.data, form.body.data, utc_now())
            flash(_("A test copy is on its way to %(email)s.", email=current_user.email), "ok")
        preview = render_markdown(form.body.data)
    return render_template(
        "organisers/messages.html",
        event=event,
        form=form,
        preview=preview,
        sent=messages.list_announcements(event.id),
    ), (400 if form.errors else 200)


@bp.route("/events/<slug>/questions", methods=["GET", "POST"])
@login_required
def questions(slug: str) -> str | BaseResponse | tuple[str, int]:
    """The event's own questions in the registration form."""
    event = _event_or_404(slug)
    form = QuestionForm()
    if form.validate_on_submit():
        kind = QuestionKind(form.kind.data)
        events.add_question(
            event,
            Question(
                kind=kind,
                label=form.label.data,
                label_es=form.label_es.data or None,
                choices=form.parsed_choices() if kind is QuestionKind.CHOICE else [],
                required=form.required.data,
            ),
        )
        flash(_("The question is on the registration form."), "ok")
        return redirect(url_for(".questions", slug=slug))
    return render_template("organisers/questions.html", event=event, form=form), (
        400 if form.errors else 200
    )


@bp.post("/events/<slug>/questions/<int:question_id>/remove")
@login_required
def remove_question(slug: str, question_id: int) -> BaseResponse:
    events.remove_question(_event_or_404(slug), question_id)
    flash(_("The question and its answers are removed."), "ok")
    return redirect(url_for(".questions", slug=slug))


@bp.route("/accounts", methods=["GET", "POST"])
@admin_required
def accounts() -> str | BaseResponse | tuple[str, int]:
    form = AccountForm()
    if form.validate_on_submit():
        try:
            created = service.create_organiser(
                form.email.data, form.password.data, name=form.name.data, admin=form.admin.data
            )
        except service.AccountError:  # the length is checked by the form: the address is taken
            form.email.errors.append(_("An organiser with this address exists already."))
        else:
            flash(_("Account created for %(email)s.", email=created.email), "ok")
            return redirect(url_for(".accounts"))
    return render_template(
        "organisers/accounts.html", organisers=service.list_organisers(), form=form
    ), (400 if form.errors else 200)


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
    flash(
        _("Enabled %(email)s.", email=organiser.email)
        if active
        else _("Disabled %(email)s: logged out everywhere.", email=organiser.email),
        "ok",
    )
    return redirect(url_for(".accounts"))


def _event_or_404(slug: str) -> Event:
    event = events.get_event(slug)
    if event is None:
        abort(404)
    return event


MAIL_STATE_LABELS = {
    "sent": _l("Sent"),
    "pending": _l("Waiting to go"),
    "sending": _l("Going out"),
    "failed": _l("Failed"),
    "scheduled": _l("Scheduled"),
    "due": _l("Due now"),
    "too late": _l("Not sent: registered after it was due"),
}


@bp.app_template_global()
def mail_state_label(state: str) -> str:
    return str(MAIL_STATE_LABELS.get(state, state))


bp.add_app_template_global(format_offsets, "format_offsets")


QUESTION_KIND_LABELS = {
    QuestionKind.SHORT_TEXT: _l("short text"),
    QuestionKind.LONG_TEXT: _l("long text"),
    QuestionKind.CHOICE: _l("one choice"),
    QuestionKind.CHECKBOX: _l("tick box"),
}


@bp.app_template_global()
def question_kind_label(kind: QuestionKind) -> str:
    return str(QUESTION_KIND_LABELS[kind])


bp.add_app_template_global(retention.removal_date, "removal_date")

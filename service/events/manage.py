"""The organisers' pages for events: the event form, its status, a preview, its scheduled mail
and its own questions, under ``/organisers`` behind the organisers' login
(``service.manage``)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.events import service
from service.events.forms import EventForm, QuestionForm, format_offsets
from service.events.models import Event, EventStatus, Question, QuestionKind
from service.events.schema import EventDataError
from service.events.views import render_event_page, status_label
from service.media.uploads import takes_image_upload
from service.registration import retention
from service.registration import service as registration
from service.reminders import service as reminders


def _event_id_of(slug: str) -> int | None:
    event = service.get_event(slug)
    return event.id if event is not None else None


bp = management_blueprint("manage_events", __name__, find_event_id=_event_id_of)


@bp.route("/events/new", methods=["GET", "POST"])
@takes_image_upload
@requires(Permission.EVENT_CREATE)
def new_event() -> str | BaseResponse | tuple[str, int]:
    form = EventForm()
    if request.method == "GET":
        form.organised_by.data = current_app.config["ORGANISATION_NAME"]
    return _save_event_form(form, None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@takes_image_upload
@requires(Permission.EVENT_EDIT)
def edit_event(slug: str) -> str | BaseResponse | tuple[str, int]:
    event = event_or_404(slug)
    form = EventForm()
    form.current_image = event.image
    if request.method == "GET":
        form.fill_from(event)
    return _save_event_form(form, event)


def _save_event_form(form: EventForm, event: Event | None) -> str | BaseResponse | tuple[str, int]:
    if form.validate_on_submit():
        try:
            document = form.event_document(event.status.value if event else "draft")
            saved = registration.update_event(
                event.slug if event else None,
                document,
                form.notify.data,
                utc_now(),
                created_by=current_user.id,
            )
        except registration.TryAgain:
            form.form_errors.append(_("Too busy just now: please try again."))
            return _event_form_page(form, event), 503
        except ValueError as problem:  # a time the clocks skip, or offsets it cannot read
            if not isinstance(problem, EventDataError):
                return _event_form_page(form, event), 400
            for name, messages in problem.by_field.items():
                target = getattr(form, name, None)
                (target.errors if target is not None else form.form_errors).extend(messages)
            return _event_form_page(form, event), 400
        service.set_event_image(saved.event, form.image_choice())
        audit.record("events.edit" if event else "events.create", current_user, event=saved.event)
        published = saved.event.status is EventStatus.PUBLISHED
        if saved.changed and form.notify.data and published:
            flash(
                _(
                    "Saved. %(count)d registrant(s) will be told about the change.",
                    count=saved.told,
                ),
                "ok",
            )
        else:
            flash(_("Saved."), "ok")
        if saved.promoted:
            flash(
                ngettext(
                    "%(num)d person on the waiting list now has a place and will be told.",
                    "%(num)d people on the waiting list now have a place and will be told.",
                    saved.promoted,
                ),
                "ok",
            )
        return redirect(url_for(".edit_event", slug=saved.event.slug))
    return _event_form_page(form, event), (400 if form.errors else 200)


def _event_form_page(form: EventForm, event: Event | None) -> str:
    return render_template("events/manage/event_form.html", form=form, event=event)


@bp.post("/events/<slug>/status")
@requires(Permission.EVENT_STATUS)
def change_status(slug: str) -> BaseResponse:
    event = event_or_404(slug)
    try:
        status = EventStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    was_published = event.status is EventStatus.PUBLISHED
    previous = event.status.value
    try:
        told = registration.change_status(event, status, utc_now())
    except registration.TryAgain:
        flash(_("Too busy just now: please try again."), "error")
        return redirect(url_for(".edit_event", slug=slug))
    audit.record("events.status", current_user, event=event, detail=f"{previous} → {status.value}")
    if status is EventStatus.CANCELLED and was_published:
        flash(_("Cancelled. %(count)d registrant(s) will be told.", count=told), "ok")
    else:
        flash(_("Now: %(status)s.", status=status_label(status)), "ok")
    return redirect(url_for(".edit_event", slug=slug))


@bp.get("/events/<slug>/preview")
@requires(Permission.EVENT_PREVIEW)
def preview_event(slug: str) -> str:
    """The public page as it will look, drafts included (for organisers' eyes only)."""
    return render_event_page(event_or_404(slug), preview=True)


@bp.get("/events/<slug>/reminders")
@requires(Permission.EVENT_MAIL)
def scheduled_mail(slug: str) -> str:
    """Who gets which reminder, when, and what happened to it (``flask reminders upcoming``)."""
    event = event_or_404(slug)
    return render_template(
        "events/manage/reminders.html",
        event=event,
        planned=reminders.upcoming_reminders(event, utc_now()),
        retention=retention.removal_date(event),
    )


@bp.route("/events/<slug>/questions", methods=["GET", "POST"])
@requires(Permission.EVENT_EDIT)
def questions(slug: str) -> str | BaseResponse | tuple[str, int]:
    """The event's own questions in the registration form."""
    event = event_or_404(slug)
    form = QuestionForm()
    if form.validate_on_submit():
        kind = QuestionKind(form.kind.data)
        service.add_question(
            event,
            Question(
                kind=kind,
                label=form.label.data,
                label_es=form.label_es.data or None,
                choices=form.parsed_choices() if kind is QuestionKind.CHOICE else [],
                required=form.required.data,
            ),
        )
        audit.record("events.question_add", current_user, event=event, detail=f"kind: {kind.value}")
        flash(_("The question is on the registration form."), "ok")
        return redirect(url_for(".questions", slug=slug))
    return render_template("events/manage/questions.html", event=event, form=form), (
        400 if form.errors else 200
    )


@bp.post("/events/<slug>/questions/<int:question_id>/remove")
@requires(Permission.EVENT_EDIT)
def remove_question(slug: str, question_id: int) -> BaseResponse:
    service.remove_question(event_or_404(slug), question_id)
    audit.record(
        "events.question_remove",
        current_user,
        event=event_or_404(slug),
        detail=f"question {question_id}",
    )
    flash(_("The question and its answers are removed."), "ok")
    return redirect(url_for(".questions", slug=slug))


def event_or_404(slug: str) -> Event:
    """The event, drafts and all, for an organisers' page; 404 when there is none."""
    event = service.get_event(slug)
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

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
from service.events.forms import (
    TELL_CHOICES,
    CancelForm,
    EventForm,
    QuestionForm,
    ReinstateForm,
    format_offsets,
)
from service.events.models import Event, EventStatus, Question, QuestionKind
from service.events.schema import EventDataError
from service.events.views import render_event_page, status_label
from service.media import service as media
from service.media.uploads import takes_image_upload
from service.registration import retention
from service.registration import service as registration
from service.registration.notifications import describe_changes
from service.reminders import service as reminders

bp = management_blueprint("manage_events", __name__, find_event_id=service.event_id_of)


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
    event = service.event_or_404(slug)
    form = EventForm()
    form.current_image = event.image
    if request.method == "GET":
        form.fill_from(event)
    return _save_event_form(form, event)


def _save_event_form(form: EventForm, event: Event | None) -> str | BaseResponse | tuple[str, int]:
    if event is not None and "back" in request.form:  # from the confirmation step, unsaved
        return _event_form_page(form, event)
    if form.validate_on_submit():
        try:
            document = form.event_document(event.status.value if event else "draft")
            if event is not None and form.tell.data is None:
                pending = registration.pending_changes(event, document)
                if pending.told:
                    kept = media.keep_for_confirmation(form.image_choice())
                    return _confirm_changes_page(event, pending, kept)
            saved = registration.update_event(
                event.slug if event else None,
                document,
                form.tell.data != "no",
                utc_now(),
                created_by=current_user.id,
                person_ids=form.person_ids(),
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
        audit.record(
            "events.edit" if event else "events.create",
            current_user,
            event=saved.event,
            detail="told: no" if form.tell.data == "no" else f"told: {saved.told}",
        )
        if saved.told:
            flash(
                ngettext(
                    "Saved. %(num)d person will be told what changed.",
                    "Saved. %(num)d people will be told what changed.",
                    saved.told,
                ),
                "ok",
            )
        elif form.tell.data == "no":
            flash(_("Saved. Nobody was told."), "ok")
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


# The confirmation step carries the submitted form in hidden fields, all but these.
NOT_CARRIED = frozenset({"csrf_token", "tell", "back"})


def _confirm_changes_page(
    event: Event, pending: registration.PendingChanges, kept_image: str | None
) -> str:
    """What the form would change that registrants hear about, and who would hear, with
    telling them chosen; Back returns to the form as it was filled in. A new image rides as
    ``kept_image``, the token of the image stored for the step."""
    carried = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in NOT_CARRIED and not (kept_image and name == "image_kept")
    ]
    return render_template(
        "events/manage/confirm_changes.html",
        event=event,
        pending=pending,
        lines=describe_changes(event, pending.changes),
        carried=[*carried, *([("image_kept", kept_image)] if kept_image else [])],
        choices=TELL_CHOICES,
    )


@bp.post("/events/<slug>/status")
@requires(Permission.EVENT_STATUS)
def change_status(slug: str) -> BaseResponse:
    """Publish or unpublish; cancelling and reinstating have pages of their own."""
    event = service.event_or_404(slug)
    try:
        status = EventStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if status is EventStatus.CANCELLED:
        return redirect(url_for(".cancel_event", slug=slug), 303)
    previous = event.status.value
    try:
        registration.change_status(event, status, utc_now())
    except registration.ReinstateInstead:
        flash(
            _("This event is cancelled: reinstate it to publish it again, and say who to tell."),
            "error",
        )
        return redirect(url_for(".edit_event", slug=slug))
    except registration.TryAgain:
        flash(_("Too busy just now: please try again."), "error")
        return redirect(url_for(".edit_event", slug=slug))
    audit.record("events.status", current_user, event=event, detail=f"{previous} → {status.value}")
    flash(_("Now: %(status)s.", status=status_label(status)), "ok")
    return redirect(url_for(".edit_event", slug=slug))


@bp.route("/events/<slug>/cancel", methods=["GET", "POST"])
@requires(Permission.EVENT_STATUS)
def cancel_event(slug: str) -> str | BaseResponse | tuple[str, int]:
    """Cancelling, confirmed on a page of its own, with a message for the registrants."""
    event = service.event_or_404(slug)
    if event.is_cancelled:
        return _not_now(event, _("This event is already cancelled."))
    if event.status is EventStatus.DRAFT:  # reinstating it would publish it
        return _not_now(event, _("A draft is not public: there is nothing to cancel."))
    form = CancelForm()
    if form.validate_on_submit():
        was_published = event.status is EventStatus.PUBLISHED
        try:
            told = registration.change_status(
                event, EventStatus.CANCELLED, utc_now(), message=form.message.data or ""
            )
        except registration.TryAgain:
            form.form_errors.append(_("Too busy just now: please try again."))
            return _cancel_page(event, form), 503
        audit.record(
            "events.cancel",
            current_user,
            event=event,
            detail=f"told: {told}" + (", with a message" if form.message.data else ""),
        )
        if was_published:
            flash(
                ngettext(
                    "Cancelled. %(num)d person will be told.",
                    "Cancelled. %(num)d people will be told.",
                    told,
                ),
                "ok",
            )
        else:
            flash(_("Cancelled."), "ok")
        return redirect(url_for(".edit_event", slug=slug))
    return _cancel_page(event, form), (400 if form.errors else 200)


def _not_now(event: Event, message: str) -> str | BaseResponse:
    """Cancelling a cancelled event, or reinstating one that is not: the page says so; a
    form sent anyway goes back to the event, saying so."""
    if request.method == "POST":
        flash(message, "error")
        return redirect(url_for(".edit_event", slug=event.slug))
    return render_template("events/manage/not_now.html", event=event, message=message)


def _cancel_page(event: Event, form: CancelForm) -> str:
    confirmed, waiting = registration.people_to_tell(event)
    return render_template(
        "events/manage/cancel.html",
        event=event,
        form=form,
        confirmed=confirmed if event.status is EventStatus.PUBLISHED else 0,
        waiting=waiting if event.status is EventStatus.PUBLISHED else 0,
    )


@bp.route("/events/<slug>/reinstate", methods=["GET", "POST"])
@requires(Permission.EVENT_STATUS)
def reinstate_event(slug: str) -> str | BaseResponse | tuple[str, int]:
    """A cancelled event on again, asking whether to tell those told it was cancelled."""
    event = service.event_or_404(slug)
    if not event.is_cancelled:
        return _not_now(event, _("Only a cancelled event can be reinstated."))
    form = ReinstateForm()
    if form.validate_on_submit():
        tell = form.tell.data == "yes"
        try:
            told = registration.reinstate_event(event, tell, utc_now())
        except registration.TryAgain:
            form.form_errors.append(_("Too busy just now: please try again."))
            return _reinstate_page(event, form), 503
        if told is not None:
            audit.record(
                "events.reinstate",
                current_user,
                event=event,
                detail=f"told: {told}" if tell else "told: no",
            )
            flash(
                ngettext(
                    "Reinstated. %(num)d person will be told.",
                    "Reinstated. %(num)d people will be told.",
                    told,
                )
                if tell
                else _("Reinstated. Nobody was told."),
                "ok",
            )
        return redirect(url_for(".edit_event", slug=slug))
    return _reinstate_page(event, form), (400 if form.errors else 200)


def _reinstate_page(event: Event, form: ReinstateForm) -> str:
    confirmed, waiting = registration.people_to_tell(event)
    return render_template(
        "events/manage/reinstate.html", event=event, form=form, confirmed=confirmed, waiting=waiting
    )


@bp.get("/events/<slug>/preview")
@requires(Permission.EVENT_PREVIEW)
def preview_event(slug: str) -> str:
    """The public page as it will look, drafts included (for organisers' eyes only)."""
    return render_event_page(service.event_or_404(slug), preview=True)


@bp.get("/events/<slug>/reminders")
@requires(Permission.EVENT_MAIL)
def scheduled_mail(slug: str) -> str:
    """Who gets which reminder, when, and what happened to it (``flask reminders upcoming``)."""
    event = service.event_or_404(slug)
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
    event = service.event_or_404(slug)
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
    service.remove_question(service.event_or_404(slug), question_id)
    audit.record(
        "events.question_remove",
        current_user,
        event=service.event_or_404(slug),
        detail=f"question {question_id}",
    )
    flash(_("The question and its answers are removed."), "ok")
    return redirect(url_for(".questions", slug=slug))


MAIL_STATE_LABELS = {
    "sent": _l("Sent"),
    "pending": _l("Waiting to go"),
    "sending": _l("Going out"),
    "failed": _l("Failed"),
    "scheduled": _l("Scheduled"),
    "due": _l("Due now"),
    "too late": _l("Not sent: registered after it was due"),
    "superseded": _l("Not to be sent: a later one replaces it"),
    "missed": _l("Not sent: the event had started"),
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

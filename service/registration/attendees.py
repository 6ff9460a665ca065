"""The organisers' pages for an event's attendees: the list, check-in, resending or cancelling
on someone's behalf, the CSV export and messages to registrants, under ``/organisers`` behind
the organisers' login (``service.manage``)."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from service.access import service as access
from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.events import service as events
from service.events.models import EventFormat
from service.forms import ExportForm
from service.pagination import MAX_PAGE
from service.registration import (
    attendance,
    export,
    messages,
    needs,
    notifications,
    retention,
    roster,
    service,
)
from service.registration.forms import AttendeeExportForm, MessageForm
from service.registration.models import RegistrationMode
from service.text import render_markdown

bp = management_blueprint("attendees", __name__, find_event_id=events.event_id_of)


@bp.get("/events/<slug>/attendees")
@requires(Permission.ATTENDEES_LIST)
def list_attendees(slug: str) -> str:
    event = events.event_or_404(slug)
    search = request.args.get("q", "").strip()[:200]
    try:
        status = roster.AttendeeFilter(request.args.get("status", "all"))
    except ValueError:
        status = roster.AttendeeFilter.ALL
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    hybrid = event.format is EventFormat.HYBRID
    part = _part_filter(request.args.get("part", "")) if hybrid else None
    # Whoever may not see emails (the door) may not search by them either.
    details = access.may(current_user, Permission.ATTENDEES_DETAILS, event.id)
    rows, total = roster.find_attendees(event.id, search, status, page, by_email=details, part=part)
    audit.record("attendees.list", current_user, event=event, detail=f"{len(rows)} row(s) shown")
    now = utc_now()
    return render_template(
        "registration/manage/attendees.html",
        event=event,
        counts=roster.attendee_counts(event.id),
        hybrid=hybrid,
        part=part,
        part_counts=roster.part_counts(event, now),
        # Who came, once the event has started (None before: nobody could have yet).
        attended=attendance.attended_ids(event) if now >= event.starts_at else None,
        rows=rows,
        total=total,
        page=page,
        pages=max((total + roster.ATTENDEES_PAGE_SIZE - 1) // roster.ATTENDEES_PAGE_SIZE, 1),
        search=search,
        status=status,
        # Answers are personal data like emails: only for whoever may see those.
        answers=roster.answers_of([row.id for row in rows]) if details else None,
        export_form=_export_form(event.id),
        columns=export.columns_for(event),
    )


def _part_filter(value: str) -> RegistrationMode | None:
    """The part the list shows (``?part=in_person`` or ``online``); None: both."""
    try:
        return RegistrationMode(value)
    except ValueError:
        return None


@bp.post("/events/<slug>/attendees/<int:registration_id>/check-in")
@requires(Permission.CHECK_IN)
def check_in(slug: str, registration_id: int) -> BaseResponse:
    event = events.event_or_404(slug)
    checked_in = request.form.get("checked_in") != "0"
    try:
        roster.set_checked_in(registration_id, event.id, checked_in, utc_now())
    except LookupError:
        abort(404)
    audit.record(
        "attendees.check_in" if checked_in else "attendees.check_in_undo",
        current_user,
        event=event,
        detail=f"registration {registration_id}",
    )
    return redirect(
        url_for(
            ".list_attendees",
            slug=slug,
            q=request.form.get("q") or None,
            status=request.form.get("status") or None,
            part=request.form.get("part") or None,
            page=request.form.get("page") or None,
        )
        + f"#attendee-{registration_id}"
    )


@bp.post("/events/<slug>/attendees/<int:registration_id>/resend")
@requires(Permission.ATTENDEES_ACT)
def resend_confirmation(slug: str, registration_id: int) -> BaseResponse:
    _attendee_or_404(slug, registration_id)
    notifications.resend_confirmation(registration_id, utc_now())
    audit.record(
        "attendees.resend",
        current_user,
        event=events.get_event(slug),
        detail=f"registration {registration_id}",
    )
    flash(_("The confirmation is on its way again."), "ok")
    return redirect(url_for(".list_attendees", slug=slug) + f"#attendee-{registration_id}")


@bp.post("/events/<slug>/attendees/<int:registration_id>/cancel")
@requires(Permission.ATTENDEES_ACT)
def cancel_registration(slug: str, registration_id: int) -> BaseResponse:
    _attendee_or_404(slug, registration_id)
    try:
        service.cancel_registration(registration_id, utc_now())
    except service.TryAgain:
        flash(_("Too busy just now: please try again."), "error")
    else:
        audit.record(
            "attendees.cancel",
            current_user,
            event=events.get_event(slug),
            detail=f"registration {registration_id}",
        )
        flash(_("Cancelled; the first person waiting, if any, has the place."), "ok")
    return redirect(url_for(".list_attendees", slug=slug))


def _attendee_or_404(slug: str, registration_id: int) -> None:
    event = events.event_or_404(slug)
    if not roster.is_attendee(event.id, registration_id):
        abort(404)


@bp.post("/events/<slug>/export.csv")
@requires(Permission.EVENT_EXPORT)
def export_attendees(slug: str) -> BaseResponse:
    event = events.event_or_404(slug)
    form = _export_form(event.id)
    form.columns.choices = [SelectChoice(c.name, c.name) for c in export.columns_for(event)]
    if not form.validate():
        flash(_("Tick at least one column to export."), "error")
        return redirect(url_for(".list_attendees", slug=slug))
    with_access_needs = isinstance(form, AttendeeExportForm) and form.include_access_needs.data
    columns = export.choose_columns(
        event, form.columns.data, include_access_needs=with_access_needs
    )
    now = utc_now()
    audit.record(
        "attendees.export",
        current_user,
        event=event,
        detail="web; columns: "
        + ", ".join(c.name for c in columns)
        + ("; with access needs" if with_access_needs else ""),
    )
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


def _export_form(event_id: int) -> ExportForm:
    """The export's form; with the tick for access needs only for whoever may see them."""
    if access.may(current_user, Permission.ATTENDEES_ACCESS_NEEDS, event_id):
        return AttendeeExportForm()
    return ExportForm()


@bp.route("/events/<slug>/messages", methods=["GET", "POST"])
@requires(Permission.EVENT_MESSAGE)
def compose_message(slug: str) -> str | BaseResponse | tuple[str, int]:
    """Write, preview, test, then send a message to registrants or the waiting list."""
    event = events.event_or_404(slug)
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
            audit.record(
                "attendees.message",
                current_user,
                event=event,
                detail=f"message to {sent.recipients} registrants",
            )
            flash(_("Sent to %(count)d person(s).", count=sent.recipients), "ok")
            return redirect(url_for(".compose_message", slug=slug))
        if action == "test":
            messages.send_test(current_user, event, form.subject.data, form.body.data, utc_now())
            flash(_("A test copy is on its way to %(email)s.", email=current_user.email), "ok")
        preview = render_markdown(form.body.data)
    return render_template(
        "registration/manage/messages.html",
        event=event,
        form=form,
        preview=preview,
        sent=messages.list_announcements(event.id),
    ), (400 if form.errors else 200)


bp.add_app_template_global(retention.removal_date, "removal_date")
bp.add_app_template_global(needs.language_headcounts, "language_headcounts")
bp.add_app_template_global(needs.access_need_counts, "access_need_counts")
bp.add_app_template_global(needs.language_label, "language_label")
bp.add_app_template_global(needs.access_need_labels, "access_need_labels")

"""The organisers' pages for copies and series: "Duplicate" (one draft with a new date),
"Repeat" (several drafts weekly, fortnightly or monthly, linked as a series) and the series'
own page, under ``/organisers`` behind the event's manager permission. Both forms call
``series.copy_event``, as ``flask events duplicate`` does."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms import DateTimeLocalField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from service.access import service as access
from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.events import series, service
from service.events.forms import LOCAL_TIME_FORMATS
from service.events.models import Event
from service.events.timing import format_date
from service.forms import Form

bp = management_blueprint("event_copies", __name__, find_event_id=service.event_id_of)


class CopyForm(Form):
    starts_at = DateTimeLocalField(
        _l("Starts (in the event's time zone)"),
        validators=[InputRequired()],
        format=LOCAL_TIME_FORMATS,
    )


class RepeatForm(CopyForm):
    repeat = SelectField(
        _l("Repeat"),
        choices=[
            SelectChoice(series.Repeat.WEEKLY.value, _l("Every week")),
            SelectChoice(series.Repeat.FORTNIGHTLY.value, _l("Every two weeks")),
            SelectChoice(
                series.Repeat.MONTHLY.value, _l("Every month, on the same weekday of the month")
            ),
        ],
        description=_l(
            "Monthly keeps the weekday of the month: the 2nd Tuesday stays the 2nd Tuesday; "
            "in a month without a 5th one, the last one."
        ),
    )
    count = IntegerField(
        _l("How many new dates"),
        validators=[InputRequired(), NumberRange(min=1, max=series.MAX_COPIES)],
        default=3,
        description=_l("From 1 to 52. The first starts at the time above."),
    )


@bp.route("/events/<slug>/duplicate", methods=["GET", "POST"])
@requires(Permission.EVENT_EDIT)
def duplicate_event(slug: str) -> str | BaseResponse | tuple[str, int]:
    """One draft copy with a new start; it opens in the form, to check before publishing."""
    event = service.event_or_404(slug)
    form = CopyForm()
    if not form.is_submitted():
        form.starts_at.data = _next_week(event)
    if form.validate_on_submit():
        copies = _make_copies(form, event, None, 1)
        if copies is not None:
            flash(_("A draft copy is made: check it, then publish it."), "ok")
            return redirect(url_for("manage_events.edit_event", slug=copies.events[0].slug))
    return render_template("events/manage/copy.html", event=event, form=form, repeating=False), (
        400 if form.errors or form.form_errors else 200
    )


@bp.route("/events/<slug>/repeat", methods=["GET", "POST"])
@requires(Permission.EVENT_EDIT)
def repeat_event(slug: str) -> str | BaseResponse | tuple[str, int]:
    """Several draft copies, a week, two weeks or a month apart, in a series with the event."""
    event = service.event_or_404(slug)
    form = RepeatForm()
    if not form.is_submitted():
        form.starts_at.data = _next_week(event)
    if form.validate_on_submit():
        copies = _make_copies(form, event, series.Repeat(form.repeat.data), form.count.data)
        if copies is not None:
            flash(
                ngettext(
                    "%(num)d draft is made in the series.",
                    "%(num)d drafts are made in the series.",
                    len(copies.events),
                ),
                "ok",
            )
            for start in copies.moved_to_last:
                flash(
                    _(
                        "%(date)s: that month has no fifth such weekday, so it is the last one.",
                        date=format_date(start, event.zone),
                    ),
                    "ok",
                )
            return redirect(url_for(".show_series", slug=slug))
    return render_template("events/manage/copy.html", event=event, form=form, repeating=True), (
        400 if form.errors or form.form_errors else 200
    )


def _make_copies(
    form: CopyForm, event: Event, repeat: series.Repeat | None, count: int
) -> series.Copies | None:
    """Call the service; on refusal put the reason on the form and return ``None``."""
    try:
        copies = series.copy_event(
            event,
            form.starts_at.data.replace(tzinfo=event.zone),
            repeat=repeat,
            count=count,
            created_by=current_user.id,
            now=utc_now(),
        )
    except series.CopyError as problem:
        form.starts_at.errors = [*form.starts_at.errors, str(problem)]
        return None
    except series.TryAgain:
        form.form_errors.append(_("Too busy just now: please try again."))
        return None
    for copy in copies.events:
        audit.record("events.duplicate", current_user, event=copy, detail=f"copy of {event.slug}")
    return copies


@bp.get("/events/<slug>/series")
@requires(Permission.EVENT_EDIT)
def show_series(slug: str) -> str:
    """The dates of the event's series that the account may see, drafts too."""
    event = service.event_or_404(slug)
    found = series.get_series(event.series_id) if event.series_id is not None else None
    visible = access.visible_event_ids(current_user)
    events = [
        member
        for member in (series.series_events(found.id) if found is not None else [])
        if visible is None or member.id in visible
    ]
    return render_template("events/manage/series.html", event=event, series=found, events=events)


def _next_week(event: Event) -> datetime:
    """The form's first suggestion: a week after the event at the same local time, or as
    many weeks as it takes to be in the future."""
    weeks = max(1, (utc_now() - event.starts_at) // timedelta(weeks=1) + 1)
    return event.starts_at.astimezone(event.zone).replace(tzinfo=None) + timedelta(weeks=weeks)

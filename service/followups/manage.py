"""The organisers' follow-up page of an event: write both versions, preview each in each
language, send a test to oneself. Whoever may write to the event's registrants may use it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.events import service as events
from service.events.models import EventStatus
from service.followups import service
from service.followups.forms import (
    AUDIENCE_LABELS,
    LANGUAGE_LABELS,
    FollowUpForm,
    TestForm,
    form_data,
)
from service.followups.models import Audience, FollowUp
from service.text import render_markdown

bp = management_blueprint("manage_followups", __name__, find_event_id=events.event_id_of)


@bp.route("/events/<slug>/follow-up", methods=["GET", "POST"])
@requires(Permission.EVENT_MESSAGE)
def edit_follow_up(slug: str) -> Response | tuple[str, int]:
    event = events.event_or_404(slug)
    follow_up = service.get_follow_up(event.id)
    form = FollowUpForm(data=form_data(event, follow_up, service.default_send_at(event)))
    form.offer_statements(service.statements_to_sign())
    if form.validate_on_submit() and (draft := form.draft(event)) is not None:
        service.save_follow_up(event, draft, utc_now())
        audit.record("followups.save", current_user, event=event, detail="follow-up saved")
        flash(_("Saved. Check the preview below."), "ok")
        return redirect(url_for(".edit_follow_up", slug=slug) + "#preview")
    audience, language = _previewed()
    page = render_template(
        "followups/manage/follow_up.html",
        event=event,
        follow_up=follow_up,
        form=form,
        test_form=TestForm(),
        audience=audience,
        language=language,
        preview=_preview(follow_up, audience, language) if follow_up else None,
        audiences=AUDIENCE_LABELS,
        languages=LANGUAGE_LABELS,
        sizes=service.audience_sizes(event),
        started=event.starts_at <= utc_now(),
        is_cancelled=event.status is EventStatus.CANCELLED,
    )
    return page, 400 if form.errors else 200


@bp.post("/events/<slug>/follow-up/test")
@requires(Permission.EVENT_MESSAGE)
def send_test(slug: str) -> Response:
    """Queue the version shown, in the language shown, to the organiser alone."""
    event = events.event_or_404(slug)
    follow_up = service.get_follow_up(event.id)
    form = TestForm()
    if follow_up is None or not form.validate_on_submit():
        flash(_("Save the follow-up first, then send yourself a test."), "error")
        return redirect(url_for(".edit_follow_up", slug=slug))
    audience = Audience(form.audience.data)
    service.send_test(current_user, follow_up, audience, form.language.data, utc_now())
    audit.record("followups.test", current_user, event=event, detail="test to self")
    flash(_("A test copy is on its way to %(email)s.", email=current_user.email), "ok")
    return redirect(
        url_for(".edit_follow_up", slug=slug, version=audience.value, language=form.language.data)
        + "#preview"
    )


def _previewed() -> tuple[Audience, str]:
    """The version and language the page previews (``?version=missed&language=es``)."""
    try:
        audience = Audience(request.args.get("version", Audience.ATTENDED.value))
    except ValueError:
        audience = Audience.ATTENDED
    language = request.args.get("language", "en")
    return audience, language if language in LANGUAGE_LABELS else "en"


def _preview(follow_up: FollowUp, audience: Audience, language: str) -> dict[str, object]:
    version = follow_up.version(audience)
    return {
        "subject": version.localised("subject", language),
        "body": render_markdown(version.localised("body", language)),
        "recording_url": follow_up.recording_url if version.with_recording else "",
        "slides_url": follow_up.slides_url if version.with_slides else "",
        "statement": follow_up.statement if version.with_sign else None,
        "spanish_missing": language == "es" and not (version.subject_es and version.body_es),
    }

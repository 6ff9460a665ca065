"""Registration pages: the form, what happens next, the personal manage and joining links."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from service.db import utc_now
from service.events import service as events
from service.events.models import Event, EventFormat
from service.events.timing import event_timing
from service.extensions import limiter
from service.i18n import current_language
from service.registration import links, needs, notifications, parts, retention, service
from service.registration.forms import (
    PART_LABELS,
    NeedsForm,
    answers_from,
    mode_from,
    needs_form_for,
    needs_from,
    registration_form_for,
)
from service.registration.links import JoinDecision
from service.registration.models import Registration, RegistrationMode
from service.registration.parts import other_part
from service.security import no_store
from service.text import render_markdown

bp = Blueprint("registration", __name__)


def _registration_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@limiter.limit(_registration_limit, methods=["POST"])
@no_store
def register(slug: str) -> str | Response | tuple[str, int]:
    questions = events.questions_of(slug)
    event = _event_or_404(slug)
    # A hybrid event's form offers its parts as they stand; another's is checked without a count.
    hybrid = event.format is EventFormat.HYBRID
    availability = service.availability(event, utc_now()) if hybrid else None
    form = registration_form_for(
        questions, current_language(), _choice_of_parts(availability), event.languages
    )
    if form.validate_on_submit():
        if form.website.data:  # the honeypot: answer as if all went well, store nothing
            return redirect(url_for(".next_steps", slug=slug))
        attendee = service.Attendee(
            name=form.name.data,
            email=form.email.data,
            organisation=form.organisation.data or "",
            keep_informed=form.keep_informed.data,
            mode=mode_from(form),
            needs=needs_from(form),
        )
        try:
            service.register(
                slug, attendee, current_language(), utc_now(), answers_from(form, questions)
            )
        except service.RegistrationClosed as closed:
            if closed.state is service.RegistrationState.UNAVAILABLE:
                abort(404)
            if closed.state is not service.RegistrationState.FULL or "mode" not in form:
                return redirect(url_for(".register", slug=slug))
            # The part chosen filled up: the same answer for a known address, keeping the form.
            form.mode.errors = [_("That part is full now: please choose the other.")]
            availability = None  # the page says how the parts stand now
        except service.TryAgain:
            return render_template("registration/busy.html", slug=slug), 503
        else:
            return redirect(url_for(".next_steps", slug=slug))
    availability = availability or service.availability(event, utc_now())
    status = 400 if form.errors else 200
    return render_template(
        "registration/register.html", event=event, form=form, availability=availability
    ), status


@bp.get("/events/<slug>/registered")
@no_store
def next_steps(slug: str) -> str:
    """The same page whether the address was new, already registered or put on the waiting
    list: the email says which, so the page tells nobody who else registered. The address
    is not shown: it would have to ride in the session cookie, readable on a shared computer."""
    event = _event_or_404(slug)
    return render_template("registration/next_steps.html", event=event)


@bp.app_template_global()
def registration_panel(event: Event) -> Markup:
    """The form (or why there is none) for the event page."""
    availability = service.availability(event, utc_now())
    return Markup(  # noqa: S704 - rendered by our own autoescaping template
        render_template(
            "registration/_panel.html",
            event=event,
            availability=availability,
            form=registration_form_for(
                event.questions,
                current_language(),
                _choice_of_parts(availability),
                event.languages,
                formdata=None,
            ),
        )
    )


@bp.app_template_global()
def part_label(mode: RegistrationMode) -> str:
    """ "In the room" or "Online"."""
    return str(PART_LABELS[mode])


bp.add_app_template_global(parts.total_capacity, "total_capacity")


def _choice_of_parts(
    availability: service.Availability | None,
) -> tuple[service.PartAvailability, ...]:
    """The parts a registrant chooses between: a hybrid event's two, else none."""
    return availability.parts if availability and len(availability.parts) > 1 else ()


@bp.get("/r/<token>")
@no_store
def manage(token: str) -> str:
    registration = _registration_or_404(links.MANAGE, token)
    event = registration.event
    return render_template(
        "registration/manage.html",
        registration=registration,
        event=event,
        token=token,
        timing=event_timing(event),
        join_url=links.join_url(registration) if registration.takes_part_online else "",
        waiting_position=(
            notifications.waiting_position(registration)
            if registration.is_waiting or registration.wants_mode
            else None
        ),
        switch=_switch_offer(registration),
        description=render_markdown(event.localised("description", current_language())),
    )


def _switch_offer(registration: Registration) -> service.PartAvailability | None:
    """The other part of a hybrid event, as it stands, when the person could ask for it."""
    event = registration.event
    if not service.may_switch(event, registration, utc_now()):
        return None
    return service.availability(event, utc_now()).part(other_part(registration.mode))


@bp.post("/r/<token>/switch")
@no_store
def switch(token: str) -> Response | tuple[str, int]:
    """Take part the other way (or, with ``stay``, withdraw the request and keep one's part)."""
    registration = _registration_or_404(links.MANAGE, token)
    try:
        if request.form.get("stay"):
            outcome = service.stay_in_part(registration.id, utc_now())
        else:
            outcome = service.switch_part(registration.id, utc_now())
    except service.TryAgain:
        return render_template("registration/busy.html", slug=registration.event.slug), 503
    flash(outcome.value, "switch")
    return redirect(url_for(".manage", token=token))


@bp.post("/r/<token>/cancel")
@no_store
def cancel(token: str) -> Response | tuple[str, int]:
    registration = _registration_or_404(links.MANAGE, token)
    was_waiting = registration.is_waiting
    try:
        service.cancel_registration(registration.id, utc_now())
    except service.TryAgain:
        return render_template("registration/busy.html", slug=registration.event.slug), 503
    flash(
        "left_waiting_list" if was_waiting else "cancelled",
        "registration",
    )
    return redirect(url_for(".manage", token=token))


@bp.app_template_global()
def needs_form(registration: Registration) -> NeedsForm:
    """The registrant's answers about their needs, for their manage page to change."""
    return needs_form_for(
        registration.event.languages, current_language(), formdata=None, obj=registration
    )


bp.add_app_template_global(needs.may_change_needs, "needs_may_change")
bp.add_app_template_global(retention.retention_days, "retention_days")


@bp.post("/r/<token>/needs")
@no_store
def change_needs(token: str) -> Response | tuple[str, int]:
    registration = _registration_or_404(links.MANAGE, token)
    if not needs.may_change_needs(registration):
        abort(404)
    form = needs_form_for(registration.event.languages, current_language())
    if not form.validate_on_submit():
        return render_template(
            "registration/needs.html", registration=registration, needs_answers=form, token=token
        ), 400
    if not needs.update_needs(registration.id, needs_from(form)):
        abort(404)
    flash("saved", "needs")
    return redirect(url_for(".manage", token=token) + "#needs")


@bp.get("/j/<token>")
@no_store
def join(token: str) -> Response | str:
    registration = _registration_or_404(links.JOIN, token)
    decision = links.use_join_link(registration, utc_now())
    if decision is JoinDecision.ENTER:
        return redirect(registration.event.join_url)
    event = registration.event
    return render_template(
        "registration/join.html",
        decision=decision,
        registration=registration,
        event=event,
        timing=event_timing(event),
        manage_url=links.manage_url(registration),
    )


@bp.get("/privacy")
def privacy() -> str:
    configured = (
        current_app.config["PRIVACY_NOTICE_ES" if current_language() == "es" else "PRIVACY_NOTICE"]
        or current_app.config["PRIVACY_NOTICE"]
    )
    return render_template(
        "registration/privacy.html", notice=render_markdown(configured) if configured else None
    )


def _event_or_404(slug: str) -> Event:
    event = events.get_public_event_alone(slug)
    if event is None:
        abort(404)
    return event


def _registration_or_404(purpose: str, token: str) -> Registration:
    registration = links.registration_from_link(purpose, token, utc_now())
    if registration is None:
        abort(404)
    return registration

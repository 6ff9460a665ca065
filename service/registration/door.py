"""The door on a phone: the check-in page (``/organisers/events/<slug>/door``: counts, a GET
search, one big button a person, the undo of the volunteer's own last check-in) and the
check-in link each confirmation carries (``/checkin/<token>``), which a volunteer's camera
opens from the QR code. Both need a login and door access to the event (``CHECK_IN``)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_time
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from service import manage
from service.access import service as access
from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.events import service as events
from service.events.models import Event, EventFormat
from service.registration import checkin, roster
from service.registration.models import Registration, RegistrationStatus
from service.security import forbid_storing

# The volunteer's last check-in, kept in their own session: only they can undo it.
LAST_CHECK_IN = "door_last_check_in"


bp = management_blueprint("door", __name__, find_event_id=events.event_id_of)

# /checkin/<token> sits outside /organisers (it is printed in mail) but is theirs all the same.
links = Blueprint("checkin", __name__)
links.before_request(manage.require_organiser)
links.after_request(forbid_storing)


@bp.get("/events/<slug>/door")
@requires(Permission.CHECK_IN)
def door_page(slug: str) -> str:
    event = events.event_or_404(slug)
    search = request.args.get("q", "").strip()[:200]
    # Whoever may not see emails (the door role) may not search by them either.
    by_email = access.may(current_user, Permission.ATTENDEES_DETAILS, event.id)
    rows, total = roster.find_at_the_door(event, search, by_email)
    return render_template(
        "registration/manage/door.html",
        event=event,
        counts=roster.attendee_counts(event.id),
        # The door checks in the room: at a hybrid event, its part is who is expected.
        room=roster.part_counts(event, utc_now())[0]
        if event.format is EventFormat.HYBRID
        else None,
        rows=rows,
        total=total,
        search=search,
        by_email=by_email,
        undoable=_undoable(event, utc_now()),
    )


@bp.post("/events/<slug>/door/<int:registration_id>/check-in")
@requires(Permission.CHECK_IN)
def check_in(slug: str, registration_id: int) -> BaseResponse:
    event = events.event_or_404(slug)
    _check_in(event, registration_id, "at the door")
    return redirect(_door_url(event))


@bp.post("/events/<slug>/door/undo")
@requires(Permission.CHECK_IN)
def undo_check_in(slug: str) -> BaseResponse:
    event = events.event_or_404(slug)
    last = session.get(LAST_CHECK_IN) or {}
    undone = last.get("event_id") == event.id and roster.undo_check_in(
        last["registration_id"], event.id, datetime.fromisoformat(last["at"]), utc_now()
    )
    if undone:
        session.pop(LAST_CHECK_IN)
        audit.record(
            "attendees.check_in_undo",
            current_user,
            event=event,
            detail=f"registration {last['registration_id']} at the door",
        )
        flash(_("Check-in undone."), "ok")
    else:
        flash(_("That check-in can no longer be undone here."), "error")
    return redirect(_door_url(event))


@links.get("/checkin/<token>")
def check_in_link(token: str) -> str | tuple[str, int]:
    registration = _registration_or_404(token)
    return render_template(
        "registration/manage/checkin.html",
        event=registration.event,
        person=roster.door_row(registration.id, registration.event_id),
        token=token,
    )


@links.post("/checkin/<token>")
def check_in_by_link(token: str) -> BaseResponse:
    registration = _registration_or_404(token)
    _check_in(registration.event, registration.id, "by the check-in link")
    return redirect(url_for(".check_in_link", token=token))


def _registration_or_404(token: str) -> Registration:
    """The token's registration, for an account with door access to its event: 404 for a
    dead token or an event the account is not on (the same page: nothing learned), 403 for a
    role on it without door access."""
    registration = checkin.registration_from_checkin_token(token, utc_now())
    if registration is None or not access.may_see(current_user, registration.event_id):
        abort(404)
    if not access.may(current_user, Permission.CHECK_IN, registration.event_id):
        abort(403)
    return registration


def _check_in(event: Event, registration_id: int, how: str) -> None:
    """Check the person in, remember it for the undo, and say so; or say why not."""
    now = utc_now().replace(microsecond=0)  # the undo compares it as the database keeps it
    person = roster.door_row(registration_id, event.id)
    if person is None:
        abort(404)
    if person.online and person.status is RegistrationStatus.CONFIRMED:
        flash(
            _(
                "%(name)s takes part online, with no place in the room: they can switch on "
                "their registration page if a place is free.",
                name=person.name,
            ),
            "error",
        )
        return
    try:
        changed = roster.set_checked_in(registration_id, event.id, True, now)
    except LookupError:
        flash(
            _("%(name)s has no confirmed place: they cannot be checked in.", name=person.name),
            "error",
        )
        return
    if not changed:
        arrived = door_time(event, person.checked_in_at or now)
        flash(_("%(name)s was already checked in at %(time)s.", name=person.name, time=arrived))
        return
    session[LAST_CHECK_IN] = {
        "event_id": event.id,
        "registration_id": registration_id,
        "at": now.isoformat(),
    }
    audit.record(
        "attendees.check_in",
        current_user,
        event=event,
        detail=f"registration {registration_id} {how}",
    )


def _undoable(event: Event, now: datetime) -> roster.DoorRow | None:
    """The volunteer's last check-in at this event, while it can still be undone."""
    last = session.get(LAST_CHECK_IN) or {}
    if last.get("event_id") != event.id:
        return None
    person = roster.door_row(last["registration_id"], event.id)
    at = datetime.fromisoformat(last["at"])
    if person is None or person.checked_in_at != at or now - at > roster.UNDO_WINDOW:
        return None
    return person


def _door_url(event: Event) -> str:
    """Back to the door page, with the search the volunteer had (no NUL: that is no name)."""
    search = request.form.get("q", "").replace("\x00", "").strip()[:200]
    return url_for(".door_page", slug=event.slug, q=search or None)


@bp.app_template_global()
def door_time(event: Event, moment: datetime) -> str:
    """A time of day at the event, as the door says it: "19:02"."""
    return format_time(moment, "short", tzinfo=event.zone, locale=str(get_locale()))

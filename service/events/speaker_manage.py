"""The organisers' speakers page: who is on the bill, where each invitation stands, adding
someone and inviting them (again), under ``/organisers`` behind ``EVENT_EDIT``."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from service.access.guard import management_blueprint, requires
from service.access.service import Permission
from service.audit import service as audit
from service.db import utc_now
from service.events import service, speakers
from service.events.models import Event, PersonRole
from service.events.speaker_forms import AddSpeakerForm, InviteForm
from service.text import render_markdown

bp = management_blueprint("manage_speakers", __name__, find_event_id=service.event_id_of)


@bp.route("/events/<slug>/speakers", methods=["GET", "POST"])
@requires(Permission.EVENT_EDIT)
def list_speakers(slug: str) -> str | Response | tuple[str, int]:
    event = service.event_or_404(slug)
    form = AddSpeakerForm(data={"language": current_app.config["BABEL_DEFAULT_LOCALE"]})
    if form.validate_on_submit():
        invite = bool(form.invite.data)
        speakers.add_person(
            event,
            speakers.NewPerson(
                name=form.name.data,
                role=PersonRole(form.role.data),
                affiliation=form.affiliation.data or "",
                email=form.email.data or None,
                language=form.language.data,
            ),
            invite=invite,
            now=utc_now(),
        )
        audit.record(
            "speakers.add", current_user, event=event, detail="invited" if invite else "added"
        )
        flash(
            _("%(name)s is on the bill and has been sent an invitation.", name=form.name.data)
            if invite
            else _("%(name)s is on the bill.", name=form.name.data),
            "ok",
        )
        return redirect(url_for(".list_speakers", slug=slug))
    return _render(event, form), 400 if form.errors else 200


@bp.post("/events/<slug>/speakers/<int:person_id>/invite")
@requires(Permission.EVENT_EDIT)
def invite_speaker(slug: str, person_id: int) -> Response | tuple[str, int]:
    event = service.event_or_404(slug)
    person = speakers.get_person(event, person_id)
    if person is None:
        abort(404)
    form = InviteForm()
    if not form.validate_on_submit():
        return _render(event, AddSpeakerForm(formdata=None), invite_failed=True), 400
    again = person.invited_at is not None
    if speakers.invite(person, form.language.data, utc_now()):
        audit.record("speakers.invite", current_user, event=event, detail=f"person {person.id}")
        flash(
            _(
                "A new invitation is on its way to %(name)s; the link sent before no longer works.",
                name=person.name,
            )
            if again
            else _("An invitation is on its way to %(name)s.", name=person.name),
            "ok",
        )
    else:
        flash(
            _("%(name)s has no email address: add one in the event's form.", name=person.name),
            "error",
        )
    return redirect(url_for(".list_speakers", slug=slug))


def _render(event: Event, form: AddSpeakerForm, *, invite_failed: bool = False) -> str:
    return render_template(
        "events/manage/speakers.html",
        event=event,
        form=form,
        invite_form=InviteForm(formdata=None),
        invite_failed=invite_failed,
        bios={person.id: render_markdown(person.bio) for person in event.people},
    )

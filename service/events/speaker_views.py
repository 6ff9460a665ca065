"""A speaker's own page, behind the personal link of their invitation (``/speak/<token>``): the
event, in its zone and in theirs if they say which, and the form to confirm or decline and to
correct their name, affiliation and bio. No login; never stored, never indexed."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from service.db import utc_now
from service.events import speakers
from service.events.models import EventPerson, SpeakerAnswer
from service.events.speaker_forms import SpeakerAnswerForm, valid_zone
from service.events.timing import event_timing, format_moment
from service.i18n import current_language
from service.media.uploads import takes_image_upload
from service.security import no_store
from service.text import render_markdown

bp = Blueprint("speakers", __name__)


@bp.route("/speak/<token>", methods=["GET", "POST"])
@no_store
@takes_image_upload
def answer(token: str) -> str | Response | tuple[str, int]:
    person = _person_or_404(token)
    # First shown: what the event page says about them now (a POST brings its own data).
    form = SpeakerAnswerForm(
        data={
            "answer": person.answer.value if person.answer else None,
            "name": person.name,
            "affiliation": person.affiliation,
            "bio": person.bio,
            "bio_es": person.bio_es or "",
        }
    )
    form.current_image = person.photo
    if request.method == "GET":
        form.fill_image(person.photo)
    if form.validate_on_submit():
        reply = SpeakerAnswer(form.answer.data)
        speakers.answer_invitation(
            person,
            speakers.SpeakerReply(
                answer=reply,
                name=form.name.data,
                affiliation=form.affiliation.data or "",
                bio=form.bio.data or "",
                bio_es=form.bio_es.data or None,
                photo=form.image_choice(),
            ),
            utc_now(),
        )
        flash(
            _("Thank you: you are confirmed. The event page now shows what you wrote.")
            if reply is SpeakerAnswer.CONFIRMED
            else _("Thank you for letting us know. You will not be listed on the event page."),
            "speaker",
        )
        return redirect(url_for(".answer", token=token))
    event = person.event
    typed_zone = request.args.get("zone", "").strip()
    zone = valid_zone(typed_zone)
    return render_template(
        "events/speaker.html",
        person=person,
        event=event,
        form=form,
        token=token,
        timing=event_timing(event),
        typed_zone=typed_zone,
        zone_unknown=bool(typed_zone) and zone is None,
        time_in_zone=format_moment(event.starts_at, zone) if zone else "",
        title=event.localised("title", current_language()),
    ), 400 if form.errors else 200


def _person_or_404(token: str) -> EventPerson:
    person = speakers.person_from_link(token, utc_now())
    if person is None:
        abort(404)
    return person


@bp.app_template_global()
def speaker_bio(person: EventPerson) -> Markup:
    """The speaker's bio in the page's language, sanitised (``service.text``)."""
    return render_markdown(person.localised("bio", current_language()))

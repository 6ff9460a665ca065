"""The follow-up's form (both versions on one page) and the test an organiser sends themself."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, InputRequired, Length, Optional, StopValidation

from service.events.forms import LOCAL_TIME_FORMATS
from service.events.models import Event
from service.events.timing import format_moment
from service.followups.models import Audience, FollowUp
from service.followups.service import FollowUpDraft, VersionText
from service.forms import Form, Required
from service.statements.models import Statement

AUDIENCE_LABELS = {
    Audience.ATTENDED: _l("For those who attended"),
    Audience.MISSED: _l("For those who did not attend"),
}
LANGUAGE_LABELS = {"en": _l("in English"), "es": _l("in Spanish")}
# The parts of the follow-up a version may put under its message, as buttons.
EXTRAS = ("with_recording", "with_slides", "with_sign")


class WebAddress:
    """An http or https address (anything else, such as ``javascript:``, is refused)."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and urlsplit(field.data).scheme.lower() not in ("http", "https"):
            raise StopValidation(_l("Enter a web address starting with https:// or http://."))


def _link_field(label: Any, description: Any) -> StringField:
    return StringField(
        label,
        validators=[
            Optional(),
            Length(max=1000),
            WebAddress(),
            URL(require_tld=False, message=_l("Enter a full web address.")),
        ],
        description=description,
    )


def _subject(label: Any, *required: Any) -> StringField:
    return StringField(label, validators=[*required, Optional(), Length(max=300)])


def _body(label: Any, *required: Any) -> TextAreaField:
    return TextAreaField(label, validators=[*required, Optional(), Length(max=20_000)])


class FollowUpForm(Form):
    send_at = DateTimeLocalField(
        _l("Send on (in the event's time zone)"),
        validators=[InputRequired(_l("Choose when to send it."))],
        format=LOCAL_TIME_FORMATS,
    )
    recording_url = _link_field(
        _l("Recording link (optional)"), _l("For example the video on YouTube or PeerTube.")
    )
    slides_url = _link_field(_l("Slides link (optional)"), _l("A page or file with the slides."))
    statement_id = SelectField(_l("Call to sign a statement (optional)"), validate_choice=True)

    attended_subject = _subject(_l("Subject"), Required())
    attended_subject_es = _subject(_l("Subject in Spanish"))
    attended_body = _body(_l("Message (Markdown)"), Required())
    attended_body_es = _body(_l("Message in Spanish (Markdown)"))
    attended_with_recording = BooleanField(_l("The recording link"))
    attended_with_slides = BooleanField(_l("The slides link"))
    attended_with_sign = BooleanField(_l("The call to sign the statement"))

    missed_subject = _subject(_l("Subject"), Required())
    missed_subject_es = _subject(_l("Subject in Spanish"))
    missed_body = _body(_l("Message (Markdown)"), Required())
    missed_body_es = _body(_l("Message in Spanish (Markdown)"))
    missed_with_recording = BooleanField(_l("The recording link"))
    missed_with_slides = BooleanField(_l("The slides link"))
    missed_with_sign = BooleanField(_l("The call to sign the statement"))

    def offer_statements(self, statements: list[Statement]) -> None:
        self.statement_id.choices = [
            SelectChoice("", _l("No call to sign")),
            *(SelectChoice(str(statement.id), statement.title) for statement in statements),
        ]

    def fields_of(self, audience: Audience) -> dict[str, Any]:
        """The form's fields of one version, by the version's own names."""
        return {
            name: self[f"{audience.value}_{name}"]
            for name in ("subject", "subject_es", "body", "body_es", *EXTRAS)
        }

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        given = {
            "with_recording": (
                self.recording_url,
                _l("Give the recording link above, or untick this."),
            ),
            "with_slides": (self.slides_url, _l("Give the slides link above, or untick this.")),
            "with_sign": (self.statement_id, _l("Choose the statement above, or untick this.")),
        }
        for audience in Audience:
            for name, (source, message) in given.items():
                box = self[f"{audience.value}_{name}"]
                if box.data and not source.data:
                    box.errors = [*box.errors, message]
                    valid = False
        return valid

    def draft(self, event: Event) -> FollowUpDraft | None:
        """What the form says, with the send time in the event's zone; None (and the reason
        beside the field) for a time the clocks skip or one before the meeting ends."""
        local: datetime = self.send_at.data
        zone = event.zone
        moment = local.replace(tzinfo=zone)
        if moment.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != local:
            self.send_at.errors = [
                _l(
                    "That time does not exist in %(zone)s: the clocks go forward then.",
                    zone=zone.key,
                )
            ]
            return None
        if moment < event.ends_at:
            self.send_at.errors = [
                _l(
                    "It cannot go before the meeting ends (%(end)s).",
                    end=format_moment(event.ends_at, zone),
                )
            ]
            return None
        return FollowUpDraft(
            send_at=moment,
            attended=self._version(Audience.ATTENDED),
            missed=self._version(Audience.MISSED),
            recording_url=self.recording_url.data or "",
            slides_url=self.slides_url.data or "",
            statement_id=int(self.statement_id.data) if self.statement_id.data else None,
        )

    def _version(self, audience: Audience) -> VersionText:
        fields = {name: field.data for name, field in self.fields_of(audience).items()}
        return VersionText(
            subject=fields["subject"],
            body=fields["body"],
            subject_es=fields["subject_es"] or None,
            body_es=fields["body_es"] or None,
            **{name: bool(fields[name]) for name in EXTRAS},
        )


def form_data(
    event: Event, follow_up: FollowUp | None, default_send_at: datetime
) -> dict[str, Any]:
    """What the form shows before it is sent: the saved follow-up, or the default time."""
    send_at = follow_up.send_at if follow_up is not None else default_send_at
    data: dict[str, Any] = {"send_at": send_at.astimezone(event.zone).replace(tzinfo=None)}
    if follow_up is None:
        return data
    data |= {
        "recording_url": follow_up.recording_url,
        "slides_url": follow_up.slides_url,
        "statement_id": str(follow_up.statement_id) if follow_up.statement_id else "",
    }
    for version in follow_up.versions:
        for name in ("subject", "subject_es", "body", "body_es", *EXTRAS):
            data[f"{version.audience.value}_{name}"] = getattr(version, name)
    return data


class TestForm(Form):
    """Send one version, in one language, to oneself."""

    audience = SelectField(
        _l("Version"),
        choices=[
            SelectChoice(audience.value, label) for audience, label in AUDIENCE_LABELS.items()
        ],
        validate_choice=True,
    )
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items()],
        validate_choice=True,
    )

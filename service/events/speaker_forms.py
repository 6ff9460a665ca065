"""The forms of speakers in the loop: the organisers add and invite people on the bill, and each
speaker answers on their own page."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from service.events.forms import ROLE_CHOICES
from service.events.models import SpeakerAnswer
from service.events.speakers import BIO_MAX_LENGTH, LANGUAGES
from service.forms import Form, Required, ValidEmail
from service.i18n import LANGUAGE_NAMES
from service.media.forms import ACCEPTED_TYPES, ImageFields
from service.media.service import ALT_MAX_LENGTH


def language_choices() -> list[SelectChoice]:
    """Each language in its own name, as the site's language switch shows them."""
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


class AddSpeakerForm(Form):
    name = StringField(
        _l("Name"), validators=[Required(_l("Please give the person's name.")), Length(max=200)]
    )
    role = SelectField(
        _l("Role"),
        choices=ROLE_CHOICES,
    )
    affiliation = StringField(_l("Affiliation"), validators=[Optional(), Length(max=300)])
    email = EmailField(
        _l("Email (private: for the invitation and the brief)"),
        validators=[Optional(), Length(max=254), ValidEmail()],
    )
    language = SelectField(_l("Their language"), choices=language_choices())
    invite = SubmitField(_l("Add and invite"))
    add = SubmitField(_l("Add without inviting"))

    def validate_invite(self, field: SubmitField) -> None:
        if field.data and not self.email.data:
            raise ValidationError(_l("An invitation needs an email address."))


class InviteForm(Form):
    """One button per row of the speakers page, with the language of the mail."""

    language = SelectField(_l("Language of the invitation"), choices=language_choices())


class SpeakerAnswerForm(ImageFields, Form):
    answer = RadioField(
        _l("Will you take part?"),
        choices=[
            SelectChoice(SpeakerAnswer.CONFIRMED.value, _l("Yes, I will take part")),
            SelectChoice(SpeakerAnswer.DECLINED.value, _l("No, I cannot take part")),
        ],
        validators=[Required(_l("Please say whether you will take part."))],
    )
    name = StringField(
        _l("Your name as it should appear"),
        validators=[Required(_l("Please tell us your name.")), Length(max=200)],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    affiliation = StringField(
        _l("Affiliation or role (optional)"),
        validators=[Optional(), Length(max=300)],
        render_kw={"maxlength": 300},
    )
    bio = TextAreaField(
        _l("A short bio (optional)"),
        validators=[Optional(), Length(max=BIO_MAX_LENGTH)],
        description=_l("A few sentences for the event page. Plain text or Markdown."),
        render_kw={"rows": 5, "maxlength": BIO_MAX_LENGTH},
    )
    bio_es = TextAreaField(
        _l("The same bio in Spanish (optional)"),
        validators=[Optional(), Length(max=BIO_MAX_LENGTH)],
        render_kw={"rows": 5, "maxlength": BIO_MAX_LENGTH},
    )
    # ImageFields' fields, in a speaker's words.
    image = FileField(
        _l("A photo of you (optional)"),
        description=_l("A JPEG, PNG or WebP picture, up to 8 MB, shown beside your bio."),
        render_kw={"accept": ACCEPTED_TYPES},
    )
    image_alt = StringField(
        _l("Describe the photo"),
        validators=[Length(max=ALT_MAX_LENGTH)],
        description=_l("For people who cannot see it, e.g. “Rosa Quispe speaking at a rally”."),
    )
    image_remove = BooleanField(_l("Remove my photo"))


def valid_zone(name: str) -> ZoneInfo | None:
    """The IANA zone a visitor typed ("America/La_Paz"), or None."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None

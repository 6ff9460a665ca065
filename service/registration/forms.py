"""The registration form."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, StringField
from wtforms.form import Form as BaseForm
from wtforms.validators import InputRequired, Length, ValidationError

from service.forms import Form
from service.mail.service import normalise_email


class ValidEmail:
    """A deliverable-looking address (DNS is asked only if configured), normalised as the
    database compares addresses."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not field.data:
            return
        try:
            checked = validate_email(
                field.data,
                check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
            )
        except EmailNotValidError:
            raise ValidationError(
                _l("Please enter a valid email address, like name@example.org.")
            ) from None
        field.data = normalise_email(checked.normalized)


class RegistrationForm(Form):
    name = StringField(
        _l("Your name"),
        validators=[InputRequired(_l("Please tell us your name.")), Length(max=200)],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    email = EmailField(
        _l("Email"),
        validators=[
            InputRequired(_l("Please enter your email address.")),
            Length(max=254),
            ValidEmail(),
        ],
        render_kw={"autocomplete": "email", "maxlength": 254},
    )
    organisation = StringField(
        _l("Organisation (optional)"),
        validators=[Length(max=200)],
        render_kw={"autocomplete": "organization", "maxlength": 200},
    )
    keep_informed = BooleanField(_l("Keep me informed about future events"), default=False)
    # Honeypot: hidden from people by the stylesheet; a bot that fills it gets nothing stored.
    website = StringField(
        _l("Leave this empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )

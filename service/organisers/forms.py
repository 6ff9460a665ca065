"""Organisers' forms: logging in, passwords and accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from service.forms import Form, Required, ValidEmail
from service.organisers.service import MIN_PASSWORD_LENGTH


class LoginForm(Form):
    email = EmailField(
        _l("Email"),
        validators=[Required(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordForm(Form):
    current = PasswordField(
        _l("Current password"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1000,
                message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class AccountForm(Form):
    """An admin adds an organiser, with a first password to hand over in person."""

    email = EmailField(
        _l("Email"),
        validators=[Required(), Length(max=254), ValidEmail()],
        render_kw={"autocomplete": "off"},
    )
    name = StringField(_l("Name (optional)"), validators=[Length(max=200)])
    password = PasswordField(
        _l("First password"),
        validators=[
            InputRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1000,
                message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
        description=_l("Give it to them in person; they can change it under Password."),
    )
    admin = BooleanField(_l("Admin (may manage organisers' accounts)"))

"""Organisers' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from service.forms import Form
from service.organisers.export import COLUMNS
from service.organisers.service import MIN_PASSWORD_LENGTH


class LoginForm(Form):
    email = EmailField(
        _l("Email"),
        validators=[InputRequired(), Length(max=254)],
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


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExportForm(Form):
    columns = MultiCheckboxField(
        _l("Columns"),
        choices=[SelectChoice(column.name, column.name) for column in COLUMNS],
        default=[column.name for column in COLUMNS],
        validators=[InputRequired(_l("Tick at least one column."))],
    )
    bom = BooleanField(_l("For Excel (adds a byte-order mark)"))


class MessageForm(Form):
    audience = SelectField(
        _l("To"),
        choices=[
            SelectChoice("registered", _l("Everyone registered")),
            SelectChoice("waiting", _l("The waiting list")),
        ],
    )
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(_l("Message (Markdown)"), validators=[InputRequired(), Length(max=20_000)])

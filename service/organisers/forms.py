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
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from service.events.models import QuestionKind
from service.forms import Form, Required, ValidEmail
from service.organisers.export import COLUMNS
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
    subject = StringField(_l("Subject"), validators=[Required(), Length(max=200)])
    body = TextAreaField(_l("Message (Markdown)"), validators=[Required(), Length(max=20_000)])


class QuestionForm(Form):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(QuestionKind.SHORT_TEXT.value, _l("Short text")),
            SelectChoice(QuestionKind.LONG_TEXT.value, _l("Long text")),
            SelectChoice(QuestionKind.CHOICE.value, _l("One of several choices")),
            SelectChoice(QuestionKind.CHECKBOX.value, _l("A box to tick")),
        ],
    )
    label = StringField(_l("Question"), validators=[Required(), Length(max=300)])
    label_es = StringField(_l("Question in Spanish"), validators=[Length(max=300)])
    choices = TextAreaField(
        _l("Choices"),
        description=_l("One per line; add the Spanish after a bar: Yes | Sí"),
        validators=[Length(max=5000)],
    )
    required = BooleanField(_l("An answer is required"))

    def validate_choices(self, field: TextAreaField) -> None:
        if self.kind.data == QuestionKind.CHOICE.value and len(self.parsed_choices()) < 2:
            raise ValidationError(_l("Give at least two choices."))

    def parsed_choices(self) -> list[dict[str, str]]:
        options = []
        for line in (self.choices.data or "").splitlines():
            english, _bar, spanish = (part.strip() for part in line.partition("|"))
            if english:
                options.append({"en": english, "es": spanish or english})
        return options

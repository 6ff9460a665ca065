"""The base of every form: CSRF (Flask-WTF), trimmed text, and no invisible control characters;
the name, email and honeypot the public forms (registering, signing) share; and the choice of
columns every CSV export offers.

Every text field gets these without asking, so a NUL byte or a stray control character in any
form is a clear error next to the field, with the rest of the input kept, never a 500.
Trimming removes invisible characters as well as spaces, and ``Required`` looks at what is left:
a name or an email of blanks, NBSPs, zero-width spaces or a BOM is no name or email at all.
Passwords are taken exactly as typed.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as BaseForm
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from service.identity import normalise_email

# Joiners are format characters that emoji sequences (👩‍💻) and some scripts need.
JOINERS = frozenset({"\u200c", "\u200d"})
ALLOWED_IN_LONG_TEXT = JOINERS | {"\n", "\r", "\t"}


# Letters and symbols that draw nothing, used to fake a value that looks empty.
BLANK_LOOKALIKES = frozenset({"\u115f", "\u1160", "\u2800", "\u3164", "\uffa0"})


def _is_blank(character: str) -> bool:
    return (
        character.isspace()
        or unicodedata.category(character) == "Cf"  # zero-width spaces, BOM, joiners, marks
        or character in BLANK_LOOKALIKES
    )


def tidy_text(value: Any) -> Any:
    """``value`` without the spaces and invisible characters at either end."""
    if not isinstance(value, str):
        return value
    start, end = 0, len(value)
    while start < end and _is_blank(value[start]):
        start += 1
    while end > start and _is_blank(value[end - 1]):
        end -= 1
    return value[start:end]


class Required(DataRequired):
    """Required after trimming (WTForms' ``InputRequired`` looks at the raw input, which a
    few spaces fill): what is left must not be empty."""


class PrintableText:
    """Refuses control and other invisible format characters (line breaks only in long text)."""

    def __init__(self, allowed: set[str] | frozenset[str] = frozenset()) -> None:
        self.allowed = allowed

    def __call__(self, form: BaseForm, field: Field) -> None:
        value = field.data
        # Every character refused here is also one str.isprintable() refuses: a quick pass.
        if (
            isinstance(value, str)
            and not value.isprintable()
            and any(
                unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co", "Cn")
                and character not in self.allowed
                for character in value
            )
        ):
            raise ValidationError(
                _l("Please remove the invisible control characters from this field.")
            )


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def bind_field(self, form: BaseForm, unbound_field: Any, options: dict[str, Any]) -> Any:
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                allowed = (
                    ALLOWED_IN_LONG_TEXT if issubclass(field_class, TextAreaField) else JOINERS
                )
                declared = unbound_field.kwargs  # validators and filters are passed by name
                options["filters"] = [tidy_text, *declared.get("filters", ())]
                options["validators"] = [*declared.get("validators", ()), PrintableText(allowed)]
            return unbound_field.bind(form=form, **options)


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


class PersonForm(Form):
    """What every public form asks of a person (name and email), and its honeypot."""

    name = StringField(
        _l("Your name"),
        validators=[Required(_l("Please tell us your name.")), Length(max=200)],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    email = EmailField(
        _l("Email"),
        validators=[
            Required(_l("Please enter your email address.")),
            Length(max=254),
            ValidEmail(),
        ],
        render_kw={"autocomplete": "email", "maxlength": 254},
    )
    # Honeypot: hidden from people by the stylesheet; a bot that fills it gets nothing stored.
    website = StringField(
        _l("Leave this empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExportForm(Form):
    """Which columns of a CSV export (``service.csv_export``) to download."""

    columns = MultiCheckboxField(
        _l("Columns"),
        choices=[],  # the export's own columns, set by its view
        validators=[InputRequired(_l("Tick at least one column."))],
    )
    bom = BooleanField(_l("For Excel (adds a byte-order mark)"))

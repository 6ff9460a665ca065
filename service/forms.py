"""The base of every form: CSRF (Flask-WTF), trimmed text, and no invisible control characters.

Every text field gets these without asking, so a NUL byte or a stray control character in any
form is a clear error next to the field, with the rest of the input kept, never a 500.
Passwords are taken exactly as typed.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField, TextAreaField
from wtforms import Form as BaseForm
from wtforms.validators import ValidationError

# Joiners are format characters that emoji sequences (👩‍💻) and some scripts need.
JOINERS = frozenset({"\u200c", "\u200d"})
ALLOWED_IN_LONG_TEXT = JOINERS | {"\n", "\r", "\t"}


def tidy_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


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

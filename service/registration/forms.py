"""The registration form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.form import Form as BaseForm
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from service.events.models import QuestionKind
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


QUESTION_PREFIX = "question_"


class FormQuestion(Protocol):
    """What the form needs of a question: a ``Question``, or a row of these columns."""

    id: int
    kind: QuestionKind
    label: str
    label_es: str | None
    choices: list[dict[str, str]]
    required: bool


def question_field_name(question: FormQuestion) -> str:
    return f"{QUESTION_PREFIX}{question.id}"


def registration_form_for(
    questions: Sequence[FormQuestion], language: str, **kwargs: Any
) -> RegistrationForm:
    """The registration form with the event's own questions, labelled in ``language``."""
    if not questions:
        return RegistrationForm(**kwargs)

    class EventRegistrationForm(RegistrationForm):
        pass

    for question in questions:
        label = question.label_es if language == "es" and question.label_es else question.label
        required = [InputRequired(_l("Please answer this question."))] if question.required else []
        field: Any
        if question.kind is QuestionKind.SHORT_TEXT:
            field = StringField(label, validators=[*required, Optional(), Length(max=500)])
        elif question.kind is QuestionKind.LONG_TEXT:
            field = TextAreaField(label, validators=[*required, Optional(), Length(max=5000)])
        elif question.kind is QuestionKind.CHOICE:
            choices = [
                SelectChoice(option["en"], option.get("es") or option["en"])
                if language == "es"
                else SelectChoice(option["en"], option["en"])
                for option in question.choices
            ]
            field = RadioField(
                label, choices=choices, validators=required or [Optional()], validate_choice=True
            )
        else:
            field = BooleanField(label, validators=required)
        setattr(EventRegistrationForm, question_field_name(question), field)
    return EventRegistrationForm(**kwargs)


def answers_from(form: RegistrationForm, questions: Sequence[FormQuestion]) -> dict[int, str]:
    """The answers given, as text ("yes" for a ticked box), by question id."""
    answers = {}
    for question in questions:
        value = form[question_field_name(question)].data
        if question.kind is QuestionKind.CHECKBOX:
            value = "yes" if value else ""
        if value:
            answers[question.id] = str(value)
    return answers

"""The registration form, and the organisers' message to an event's registrants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from service.events.models import QuestionKind
from service.forms import Form, PersonForm, Required
from service.registration.models import RegistrationMode
from service.registration.service import PartAvailability, RegistrationState

PART_LABELS = {RegistrationMode.IN_PERSON: _l("In the room"), RegistrationMode.ONLINE: _l("Online")}


class RegistrationForm(PersonForm):
    organisation = StringField(
        _l("Organisation (optional)"),
        validators=[Length(max=200)],
        render_kw={"autocomplete": "organization", "maxlength": 200},
    )
    keep_informed = BooleanField(_l("Keep me informed about future events"), default=False)


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
    questions: Sequence[FormQuestion],
    language: str,
    parts: Sequence[PartAvailability] = (),
    **kwargs: Any,
) -> RegistrationForm:
    """The registration form with the event's own questions, labelled in ``language``, and
    for a hybrid event (its two ``parts``) the required choice of how to take part."""
    if not questions and not parts:
        return RegistrationForm(**kwargs)

    class EventRegistrationForm(RegistrationForm):
        pass

    if parts:
        EventRegistrationForm.mode = _mode_field(parts)

    for question in questions:
        label = question.label_es if language == "es" and question.label_es else question.label
        answer_required = _l("Please answer this question.")
        required = [InputRequired(answer_required)] if question.required else []
        text_required = [Required(answer_required)] if question.required else []
        field: Any
        if question.kind is QuestionKind.SHORT_TEXT:
            field = StringField(label, validators=[*text_required, Optional(), Length(max=500)])
        elif question.kind is QuestionKind.LONG_TEXT:
            field = TextAreaField(label, validators=[*text_required, Optional(), Length(max=5000)])
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


def _mode_field(parts: Sequence[PartAvailability]) -> RadioField:
    """``mode``: in the room or online; a part that is full says so ("waiting list", or
    "full" and cannot be chosen)."""
    choices = []
    for part in parts:
        label = str(PART_LABELS[part.mode])
        if part.state is RegistrationState.WAITING_LIST:
            label = _("%(part)s (waiting list)", part=label)
        disabled = part.state is RegistrationState.FULL
        if disabled:
            label = _("%(part)s (full)", part=label)
        choices.append(SelectChoice(part.mode.value, label, {"disabled": True} if disabled else {}))
    return RadioField(
        _l("How will you take part?"),
        choices=choices,
        validators=[InputRequired(_l("Choose how you will take part: in the room or online."))],
    )


def mode_from(form: RegistrationForm) -> RegistrationMode | None:
    """The part chosen on a hybrid event's form; None on any other."""
    return RegistrationMode(form.mode.data) if "mode" in form else None


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

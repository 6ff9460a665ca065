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
from service.forms import ExportForm, Form, MultiCheckboxField, PersonForm, Required
from service.i18n import LANGUAGE_NAMES
from service.registration.models import RegistrationMode
from service.registration.needs import (
    ACCESS_NEED_LABELS,
    OTHER_NEED_LENGTH,
    Needs,
)
from service.registration.service import PartAvailability, RegistrationState

PART_LABELS = {RegistrationMode.IN_PERSON: _l("In the room"), RegistrationMode.ONLINE: _l("Online")}


class AccessNeedsFields:
    """The built-in access needs question (``registration.needs``): on every registration
    form, and on the registrant's manage page."""

    access_needs = MultiCheckboxField(
        _l("Access needs (optional)"),
        choices=[SelectChoice(need.value, label) for need, label in ACCESS_NEED_LABELS.items()],
    )
    access_needs_other = StringField(
        _l("Anything else we should arrange (optional)"),
        validators=[Length(max=OTHER_NEED_LENGTH)],
        render_kw={"maxlength": OTHER_NEED_LENGTH},
    )


def add_language_fields(form_class: type[Form], languages: Sequence[str], language: str) -> None:
    """Ask which of ``languages`` the person follows the meeting in (the page's ``language``
    first chosen) and whether they need interpretation into it."""
    form_class.follows_language = RadioField(
        _l("Which language will you follow the meeting in?"),
        choices=[SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in languages],
        default=language if language in languages else languages[0],
        validators=[InputRequired(_l("Please choose the language you will follow it in."))],
    )
    form_class.needs_interpretation = BooleanField(
        _l("I need interpretation to follow it in this language")
    )


def needs_from(form: Form) -> Needs:
    """What the person answered of ``registration.needs``' questions."""
    asked = "follows_language" in form
    return Needs(
        follows_language=form["follows_language"].data if asked else None,
        needs_interpretation=bool(form["needs_interpretation"].data) if asked else False,
        access_needs=tuple(form["access_needs"].data or ()),
        access_needs_other=form["access_needs_other"].data or "",
    )


class NeedsForm(AccessNeedsFields, Form):
    """The registrant's own answers, changed on their manage page."""


def needs_form_for(languages: Sequence[str], language: str, **kwargs: Any) -> NeedsForm:
    """The manage page's form, asking the language followed as ``registration_form_for``."""
    if len(languages) < 2:
        return NeedsForm(**kwargs)

    class EventNeedsForm(NeedsForm):
        pass

    add_language_fields(EventNeedsForm, languages, language)
    return EventNeedsForm(**kwargs)


class AttendeeExportForm(ExportForm):
    """The attendees' export, for those who may see access needs: with them only if ticked."""

    include_access_needs = BooleanField(_l("Include each person's access needs"))


class RegistrationForm(AccessNeedsFields, PersonForm):
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
    languages: Sequence[str] = (),
    **kwargs: Any,
) -> RegistrationForm:
    """The registration form with the event's own questions, labelled in ``language``; for a
    hybrid event (its two ``parts``) the required choice of how to take part; and with two or
    more ``languages`` (the event's) the language followed."""
    if not questions and not parts and len(languages) < 2:
        return RegistrationForm(**kwargs)

    class EventRegistrationForm(RegistrationForm):
        pass

    if parts:
        EventRegistrationForm.mode = _mode_field(parts)
    if len(languages) >= 2:
        add_language_fields(EventRegistrationForm, languages, language)

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

"""The organisers' forms for events: every field of an event, working without JavaScript, and
the event's own questions.

People on the bill are rows (name, role, affiliation, email, order, remove); the form always
offers a few empty rows to add more. Times are entered in the event's own zone.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.form import Form as BaseForm
from wtforms.validators import (
    URL,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from service.events import service as events
from service.events.models import Event, EventFormat, PersonRole, QuestionKind
from service.events.schema import SLUG_PATTERN
from service.forms import Form, MultiCheckboxField, Required
from service.i18n import LANGUAGE_NAMES
from service.media.forms import ImageFields

EMPTY_PERSON_ROWS = 2
# What browsers send from <input type="datetime-local">, and what they need to show a value.
LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
OFFSET_PATTERN = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
UNIT_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}


def format_offsets(minutes: list[int]) -> str:
    """[1440, 60] as "1d, 1h"."""
    parts = []
    for value in sorted(minutes, reverse=True):
        for unit, size in UNIT_MINUTES.items():
            if value % size == 0:
                parts.append(f"{value // size}{unit}")
                break
    return ", ".join(parts)


def parse_offsets(text: str) -> list[int]:
    """ "1d, 1h" as [1440, 60]; raises ValueError on anything else."""
    minutes = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = OFFSET_PATTERN.match(part)
        if not match:
            raise ValueError(part)
        minutes.append(int(match[1]) * UNIT_MINUTES[match[2]])
    return minutes


TELL_CHOICES = [
    SelectChoice("yes", _l("Tell them")),
    SelectChoice("no", _l("Save without telling anyone")),
]


ROLE_CHOICES = [
    SelectChoice(PersonRole.SPEAKER.value, _l("Speaker")),
    SelectChoice(PersonRole.CHAIR.value, _l("Chair")),
]


class PersonForm(BaseForm):
    # The row's person (``EventPerson.id``), so that a corrected name keeps who they are.
    person_id = HiddenField()
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=ROLE_CHOICES,
    )
    affiliation = StringField(_l("Affiliation"), validators=[Optional(), Length(max=300)])
    email = EmailField(
        _l("Email (private, for the speaker brief)"), validators=[Optional(), Length(max=254)]
    )
    position = IntegerField(_l("Order"), validators=[Optional(), NumberRange(min=0, max=999)])
    remove = BooleanField(_l("Remove"))


class EventForm(ImageFields, Form):
    title = StringField(_l("Title"), validators=[Required(), Length(max=200)])
    title_es = StringField(_l("Title in Spanish"), validators=[Optional(), Length(max=200)])
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            Required(),
            Length(max=120),
            Regexp(SLUG_PATTERN, message=_l("Use lower-case letters, digits and hyphens.")),
        ],
        description=_l("The page will be /events/<slug>."),
    )
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=500)])
    summary_es = StringField(_l("Summary in Spanish"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Length(max=50_000)])
    description_es = TextAreaField(
        _l("Description in Spanish (Markdown)"), validators=[Length(max=50_000)]
    )
    # A text box with a list to search (<datalist>): the group's usual zones come first.
    timezone = StringField(
        _l("Time zone"),
        validators=[Required(), Length(max=64)],
        default="Europe/London",
        description=_l("Start typing a city or region, like London or La_Paz, and choose."),
        render_kw={"list": "timezone-choices", "autocomplete": "off", "spellcheck": "false"},
    )
    starts_at = DateTimeLocalField(
        _l("Starts (in the event's time zone)"),
        validators=[InputRequired()],
        format=LOCAL_TIME_FORMATS,
    )
    ends_at = DateTimeLocalField(
        _l("Ends (in the event's time zone)"),
        validators=[InputRequired()],
        format=LOCAL_TIME_FORMATS,
    )
    extra_timezones = StringField(
        _l("Also show the time in"),
        validators=[Length(max=500)],
        description=_l("Time zones, separated by commas."),
    )
    format = SelectField(
        _l("Format"),
        choices=[
            SelectChoice(EventFormat.ONLINE.value, _l("Online")),
            SelectChoice(EventFormat.IN_PERSON.value, _l("In person")),
            SelectChoice(EventFormat.HYBRID.value, _l("In person and online")),
        ],
    )
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    join_url = StringField(
        _l("Joining link (private)"),
        validators=[
            Optional(),
            URL(require_tld=False, message=_l("Enter a full web address.")),
            Length(max=1000),
        ],
        description=_l("Sent only to registrants, never shown on a public page."),
    )
    capacity = IntegerField(
        _l("Places"),
        validators=[Optional(), NumberRange(min=1)],
        description=_l("Leave empty for no limit."),
    )
    online_capacity = IntegerField(
        _l("Online places"),
        validators=[Optional(), NumberRange(min=1)],
        description=_l(
            "For a hybrid event: the places online, while the places above are the room's. "
            "Leave empty for no limit."
        ),
    )
    waiting_list = BooleanField(_l("Waiting list when full"), default=True)
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens"), validators=[Optional()], format=LOCAL_TIME_FORMATS
    )
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes"), validators=[Optional()], format=LOCAL_TIME_FORMATS
    )
    organised_by = StringField(_l("Organised by"), validators=[Optional(), Length(max=200)])
    supporters = TextAreaField(_l("Supported by"), description=_l("One organisation per line."))
    people = FieldList(FormField(PersonForm), min_entries=EMPTY_PERSON_ROWS)
    attendee_reminder_offsets = StringField(
        _l("Remind attendees before the start"),
        default="1d, 1h",
        description=_l("For example: 1d, 1h (days, hours or minutes, separated by commas)."),
    )
    reminder_note = TextAreaField(_l("A note in every reminder"), validators=[Length(max=2000)])
    languages = MultiCheckboxField(
        _l("The meeting can be followed in"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        description=_l(
            "Tick two and the registration form asks which one each person will follow, "
            "and whether they need interpretation."
        ),
    )
    interpretation_en = StringField(
        _l("How to reach the interpretation into English"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: In Zoom, choose Interpretation, then English."),
    )
    interpretation_es = StringField(
        _l("How to reach the interpretation into Spanish"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: Headsets at the desk by the door."),
    )
    speaker_reminder_offsets = StringField(_l("Brief speakers before the start"), default="2d, 2h")
    speaker_arrival_minutes = IntegerField(
        _l("Speakers join or arrive this many minutes early"),
        default=30,
        validators=[NumberRange(min=0, max=1440)],
    )
    speaker_notes = TextAreaField(
        _l("Notes for speakers (Markdown)"), validators=[Length(max=20_000)]
    )
    retention_days = IntegerField(
        _l("Delete attendees' personal data this many days after the event"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description=_l("Leave empty for the site's default."),
    )
    # The answer of the step that confirms changes registrants hear about
    # (events/manage/confirm_changes.html); the form itself does not show it.
    tell = RadioField(choices=TELL_CHOICES, validators=[Optional()])

    def validate_timezone(self, field: StringField) -> None:
        if field.data not in available_timezones():
            raise ValidationError(
                _l("Unknown time zone: choose one from the list, like Europe/London.")
            )

    def timezone_choices(self) -> list[str]:
        return events.timezone_choices()

    def fill_from(self, event: Event) -> None:
        """Show an existing event: its times in its own zone, its people plus empty rows."""
        zone = event.zone
        for name in (
            "title",
            "title_es",
            "slug",
            "summary",
            "summary_es",
            "description",
            "description_es",
            "timezone",
            "venue",
            "address",
            "join_url",
            "capacity",
            "online_capacity",
            "waiting_list",
            "organised_by",
            "reminder_note",
            "speaker_arrival_minutes",
            "speaker_notes",
            "retention_days",
            "interpretation_en",
            "interpretation_es",
        ):
            getattr(self, name).data = getattr(event, name)
        self.format.data = event.format.value
        self.languages.data = list(event.languages)
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            moment = getattr(event, name)
            getattr(self, name).data = (
                moment.astimezone(zone).replace(tzinfo=None) if moment else None
            )
        self.extra_timezones.data = ", ".join(event.extra_timezones)
        self.supporters.data = "\n".join(supporter.name for supporter in event.supporters)
        self.fill_image(event.image)
        self.attendee_reminder_offsets.data = format_offsets(event.attendee_reminder_offsets)
        self.speaker_reminder_offsets.data = format_offsets(event.speaker_reminder_offsets)
        while len(self.people.entries):
            self.people.pop_entry()
        for position, person in enumerate(event.people):
            self.people.append_entry(
                {
                    "person_id": str(person.id),
                    "name": person.name,
                    "role": person.role.value,
                    "affiliation": person.affiliation,
                    "email": person.email or "",
                    "position": position + 1,
                }
            )
        for _ in range(EMPTY_PERSON_ROWS):
            self.people.append_entry({"position": len(self.people.entries) + 1})

    def _listed_people(self) -> list[dict[str, Any]]:
        """The filled-in rows not removed, in the order their numbers give."""
        return sorted(
            (
                entry.data
                for entry in self.people.entries
                if entry.data["name"] and not entry.data["remove"]
            ),
            key=lambda person: person["position"] if person["position"] is not None else 999,
        )

    def person_ids(self) -> list[int | None]:
        """Each listed person's ``EventPerson.id`` (None for a new row), in the document's order:
        ``events.service.save_event`` matches them by it before their names."""
        return [
            int(person["person_id"]) if (person["person_id"] or "").isdigit() else None
            for person in self._listed_people()
        ]

    def event_document(self, status: str) -> dict[str, Any]:
        """The form as event JSON (see docs/event-json.md), for ``events.service.save_event``.

        Raises ValueError naming the field when a time cannot be read in the event's zone.
        """
        zone = ZoneInfo(self.timezone.data)
        people = self._listed_people()
        return {
            "slug": self.slug.data,
            "title": self.title.data,
            "title_es": self.title_es.data or None,
            "summary": self.summary.data or "",
            "summary_es": self.summary_es.data or None,
            "description": self.description.data or "",
            "description_es": self.description_es.data or None,
            "starts_at": self._aware("starts_at", zone),
            "ends_at": self._aware("ends_at", zone),
            "timezone": self.timezone.data,
            "extra_timezones": [
                name.strip()
                for name in (self.extra_timezones.data or "").split(",")
                if name.strip()
            ],
            "format": self.format.data,
            "venue": self.venue.data or "",
            "address": self.address.data or "",
            "join_url": self.join_url.data or "",
            "capacity": self.capacity.data,
            # Only a hybrid event has online places: another format leaves the field aside.
            "online_capacity": (
                self.online_capacity.data if self.format.data == EventFormat.HYBRID else None
            ),
            "waiting_list": self.waiting_list.data,
            "registration_opens_at": self._aware("registration_opens_at", zone),
            "registration_closes_at": self._aware("registration_closes_at", zone),
            "status": status,
            "organised_by": self.organised_by.data or "",
            "supporters": [
                line.strip() for line in (self.supporters.data or "").splitlines() if line.strip()
            ],
            "people": [
                {
                    "name": person["name"],
                    "role": person["role"],
                    "affiliation": person["affiliation"] or "",
                    "email": person["email"] or None,
                }
                for person in people
            ],
            "attendee_reminder_offsets": self._offsets("attendee_reminder_offsets"),
            "speaker_reminder_offsets": self._offsets("speaker_reminder_offsets"),
            "speaker_arrival_minutes": self.speaker_arrival_minutes.data or 0,
            "speaker_notes": self.speaker_notes.data or "",
            "reminder_note": self.reminder_note.data or "",
            "retention_days": self.retention_days.data,
            "languages": list(self.languages.data or []),
            "interpretation_en": self.interpretation_en.data or "",
            "interpretation_es": self.interpretation_es.data or "",
        }

    def _aware(self, name: str, zone: ZoneInfo) -> str | None:
        local: datetime | None = getattr(self, name).data
        if local is None:
            return None
        moment = local.replace(tzinfo=zone)
        # A wall time that the clocks skip (spring forward) does not survive the round trip.
        if moment.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != local:
            getattr(self, name).errors.append(
                _l(
                    "That time does not exist in %(zone)s: the clocks go forward then.",
                    zone=zone.key,
                )
            )
            raise ValueError(name)
        return moment.isoformat()

    def _offsets(self, name: str) -> list[int]:
        try:
            return parse_offsets(getattr(self, name).data or "")
        except ValueError:
            getattr(self, name).errors.append(
                _l("Write times like 1d, 2h or 30m, separated by commas.")
            )
            raise


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


class CancelForm(Form):
    message = TextAreaField(
        _l("A message to registrants (optional)"),
        validators=[Length(max=5000)],
        description=_l("Shown in the cancellation email. Plain text or Markdown."),
    )


class ReinstateForm(Form):
    tell = RadioField(
        _l("Tell the people who were told it was cancelled?"),
        choices=[
            SelectChoice("yes", _l("Yes, tell them it is on again")),
            SelectChoice("no", _l("No, tell nobody")),
        ],
        default="yes",
    )

"""The JSON shape of an event for ``flask events import`` and ``dump`` (see docs/event-json.md)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.events.models import (
    DEFAULT_ATTENDEE_REMINDERS,
    DEFAULT_SPEAKER_REMINDERS,
    EventFormat,
    EventStatus,
    PersonRole,
)

# Keys the API adds for readers; an import accepts and ignores them so a dump round-trips.
DERIVED_KEYS = frozenset(
    {"uid", "url", "ics_url", "api_url", "description_html", "description_es_html", "cancelled"}
)
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _known_zone(name: str) -> str:
    if name not in _zone_names():
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/London")
    return name


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


ZoneName = Annotated[str, AfterValidator(_known_zone)]


def _web_url(value: str) -> str:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// address")
    return value


# The languages an event can be followed in, each with a column for its interpreted channel.
MeetingLanguage = Literal["en", "es"]


def _each_once(languages: list[str]) -> list[str]:
    if len(set(languages)) != len(languages):
        raise ValueError("each language may appear only once")
    return languages


# Minutes before the start: at least 5 minutes, at most 30 days.
ReminderOffset = Annotated[int, Field(ge=5, le=30 * 24 * 60)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains a NUL character")
        return value


class PersonData(_Strict):
    name: str = Field(min_length=1, max_length=200)
    role: PersonRole = PersonRole.SPEAKER
    affiliation: str = Field(default="", max_length=300)
    email: EmailStr | None = None


class EventData(_Strict):
    slug: str = Field(pattern=SLUG_PATTERN, max_length=120)
    title: str = Field(min_length=1, max_length=200)
    title_es: str | None = Field(default=None, max_length=200)
    summary: str = Field(default="", max_length=500)
    summary_es: str | None = Field(default=None, max_length=500)
    description: str = Field(default="", max_length=50_000)
    description_es: str | None = Field(default=None, max_length=50_000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: ZoneName
    extra_timezones: list[ZoneName] = Field(default_factory=list, max_length=10)
    format: EventFormat
    venue: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    join_url: Annotated[str, AfterValidator(_web_url)] = Field(default="", max_length=1000)
    capacity: int | None = Field(default=None, ge=1)  # the room's, for a hybrid event
    online_capacity: int | None = Field(default=None, ge=1)  # a hybrid event's online places
    waiting_list: bool = True
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    status: EventStatus = EventStatus.DRAFT
    organised_by: str = Field(default="", max_length=200)
    attendee_reminder_offsets: list[ReminderOffset] = Field(
        default_factory=lambda: list(DEFAULT_ATTENDEE_REMINDERS), max_length=5
    )
    speaker_reminder_offsets: list[ReminderOffset] = Field(
        default_factory=lambda: list(DEFAULT_SPEAKER_REMINDERS), max_length=5
    )
    speaker_arrival_minutes: int = Field(default=30, ge=0, le=24 * 60)
    speaker_notes: str = Field(default="", max_length=20_000)
    reminder_note: str = Field(default="", max_length=2_000)
    languages: Annotated[list[MeetingLanguage], AfterValidator(_each_once)] = Field(
        default_factory=list
    )
    interpretation_en: str = Field(default="", max_length=300)
    interpretation_es: str = Field(default="", max_length=300)
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    supporters: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list
    )
    people: list[PersonData] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _drop_derived_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in DERIVED_KEYS}
        return data

    @field_validator("online_capacity")
    @classmethod
    def _online_places_of_a_hybrid_event(cls, value: int | None, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("format") is not EventFormat.HYBRID:
            raise ValueError(
                'only a hybrid event (format "hybrid") has online places: an online '
                "event's places are its capacity"
            )
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventData:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class EventDataError(ValueError):
    """Import data that cannot become events; ``problems`` lists each, with where it is, and
    ``by_field`` the same problems keyed by the field they concern (for forms)."""

    def __init__(self, problems: list[str], by_field: dict[str, list[str]] | None = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.by_field = by_field or {}


def parse_events(document: Any) -> list[EventData]:
    """Validate one event object or a list of them, collecting every problem."""
    items = document if isinstance(document, list) else [document]
    parsed: list[EventData] = []
    problems: list[str] = []
    by_field: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        where = f"event {index + 1}" if isinstance(document, list) else "event"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a JSON object")
            continue
        where = f"{where} ({item['slug']})" if isinstance(item.get("slug"), str) else where
        try:
            parsed.append(EventData.model_validate(item))
        except ValidationError as error:
            for detail in error.errors():
                field = ".".join(str(part) for part in detail["loc"]) or "(object)"
                problems.append(f"{where}: {field}: {detail['msg']}")
                by_field.setdefault(str(detail["loc"][0]) if detail["loc"] else "", []).append(
                    detail["msg"].removeprefix("Value error, ")
                )
    slugs = [event.slug for event in parsed]
    problems.extend(
        f"slug {slug!r} appears more than once"
        for slug in sorted(set(slugs))
        if slugs.count(slug) > 1
    )
    if problems:
        raise EventDataError(problems, by_field)
    return parsed

"""The sign form, and the statement editor of the organisers' area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, Regexp

from service.events.schema import SLUG_PATTERN
from service.forms import Form, PersonForm, Required
from service.media.forms import ImageFields
from service.statements.models import StatementStatus


class SignatureForm(PersonForm):
    affiliation = StringField(
        _l("Title or organisation (optional)"),
        validators=[Length(max=200)],
        render_kw={"autocomplete": "organization-title", "maxlength": 200},
    )
    town = StringField(
        _l("Town (optional)"),
        validators=[Length(max=100)],
        render_kw={"autocomplete": "address-level2", "maxlength": 100},
    )
    country = StringField(
        _l("Country (optional)"),
        validators=[Length(max=100)],
        render_kw={"autocomplete": "country-name", "maxlength": 100},
    )
    show_name = BooleanField(_l("Show my name on the public list"), default=False)
    keep_informed = BooleanField(_l("Keep me informed about this campaign"), default=False)
    # A follow-up's sign link (``followups.service.sign_url``): who it was for, and the event.
    via = HiddenField()


class StatementForm(ImageFields, Form):
    title = StringField(_l("Title"), validators=[Required(), Length(max=200)])
    title_es = StringField(_l("Title in Spanish"), validators=[Optional(), Length(max=200)])
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            Required(),
            Length(max=120),
            Regexp(SLUG_PATTERN, message=_l("Use lower-case letters, digits and hyphens.")),
        ],
        description=_l("The page will be /statements/<slug>."),
    )
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=500)])
    summary_es = StringField(_l("Summary in Spanish"), validators=[Optional(), Length(max=500)])
    body = TextAreaField(
        _l("Text of the statement (Markdown)"), validators=[Required(), Length(max=50_000)]
    )
    body_es = TextAreaField(
        _l("Text in Spanish (Markdown)"), validators=[Optional(), Length(max=50_000)]
    )
    published = BooleanField(_l("Published (a draft is seen only by organisers)"))
    open_for_signing = BooleanField(_l("Open for signing"), default=True)
    target_count = IntegerField(
        _l("Target number of signatures (optional)"),
        validators=[Optional(), NumberRange(min=1, max=100_000_000)],
    )
    requires_approval = BooleanField(
        _l("Signatures wait for an organiser's approval before they appear")
    )

    def statement_fields(self) -> dict[str, object]:
        """The form's values as the statement's fields."""
        return {
            "title": self.title.data,
            "title_es": self.title_es.data or None,
            "slug": self.slug.data,
            "summary": self.summary.data or "",
            "summary_es": self.summary_es.data or None,
            "body": self.body.data,
            "body_es": self.body_es.data or None,
            "status": StatementStatus.PUBLISHED if self.published.data else StatementStatus.DRAFT,
            "open_for_signing": self.open_for_signing.data,
            "target_count": self.target_count.data,
            "requires_approval": self.requires_approval.data,
        }

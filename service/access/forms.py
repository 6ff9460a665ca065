"""The team page's forms: add an account by email with a role, change a member's role."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField
from wtforms.validators import InputRequired, Length

from service.access.models import EventRole, StatementRole
from service.forms import Form, Required, ValidEmail

EVENT_ROLE_LABELS = {
    EventRole.MANAGER: _l("Manager: everything on this event, its team included"),
    EventRole.DOOR: _l("Door: names only, search and check-in"),
    EventRole.VIEWER: _l("Viewer: counts, the chart and the attendee list, no exports"),
}
STATEMENT_ROLE_LABELS = {
    StatementRole.MANAGER: _l("Manager: edit, publish, moderate, export, the team"),
    StatementRole.MODERATOR: _l("Moderator: approve, hide, feature; no export"),
}


def role_choices(labels: dict[EventRole, Any] | dict[StatementRole, Any]) -> list[tuple[str, str]]:
    return [(role.value, str(label)) for role, label in labels.items()]


class AddMemberForm(Form):
    email = EmailField(
        _l("Email of an existing account"),
        validators=[Required(), Length(max=254), ValidEmail()],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(_l("Role"), validators=[InputRequired()])


class RoleForm(Form):
    role = SelectField(_l("Role"), validators=[InputRequired()])

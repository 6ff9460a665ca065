"""Organisers' forms: logging in, passwords, invitations and password resets."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length

from service.access.models import EventRole, StatementRole
from service.forms import Form, MultiCheckboxField, Required, ValidEmail
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


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label,
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


def _repeat_password() -> PasswordField:
    return PasswordField(
        _l("Password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class InvitationForm(Form):
    """Invite someone by email to roles on events and statements (or, for admins, admin)."""

    email = EmailField(
        _l("Email"),
        validators=[Required(), Length(max=254), ValidEmail()],
        render_kw={"autocomplete": "off"},
    )
    admin = BooleanField(_l("Admin (sees and does everything, manages accounts)"))
    event_role = SelectField(
        _l("Role on the events"),
        choices=[
            SelectChoice(EventRole.MANAGER.value, _l("Manager: edit, publish, message, export")),
            SelectChoice(EventRole.DOOR.value, _l("Door: names only, search and check-in")),
            SelectChoice(EventRole.VIEWER.value, _l("Viewer: counts and names, no exports")),
        ],
        default=EventRole.VIEWER.value,
    )
    events = MultiCheckboxField(_l("Events"), coerce=int, choices=[])
    statement_role = SelectField(
        _l("Role on the statements"),
        choices=[
            SelectChoice(StatementRole.MANAGER.value, _l("Manager: edit, moderate, export")),
            SelectChoice(StatementRole.MODERATOR.value, _l("Moderator: approve, hide, feature")),
        ],
        default=StatementRole.MODERATOR.value,
    )
    statements = MultiCheckboxField(_l("Statements"), coerce=int, choices=[])


class AcceptForm(Form):
    """The invitee names themselves and chooses their password."""

    name = StringField(_l("Your name"), validators=[Required(), Length(max=200)])
    password = _new_password(_l("Choose a password"))
    repeat = _repeat_password()


class ForgotPasswordForm(Form):
    email = EmailField(
        _l("Email"),
        validators=[Required(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )


class ResetPasswordForm(Form):
    password = _new_password(_l("New password"))
    repeat = _repeat_password()

"""The fuzzer's blank email: a value of spaces or invisible characters passes no form, and the
database refuses an empty name or email from any path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from service.extensions import db
from service.forms import Form
from service.mail.models import OutboxMessage
from service.registration.models import Registration
from service.statements.models import Signature
from tests.events.test_pages import text_of
from tests.mail.fixtures import smtp_config
from tests.registration.fixtures import submit_registration
from tests.statements.fixtures import sign

BLANKS = [
    " \t ",
    "\u00a0",  # no-break space
    "\u200b",  # zero-width space
    "\ufeff",  # byte-order mark
    " \u200b\u00a0\u2060 \u3164",  # a mixture, ending in a Hangul filler
]


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}


def rows(app, model) -> list:
    with app.app_context():
        return list(db.session.scalars(sa.select(model)))


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_email_takes_no_seat_and_queues_no_mail(app, make_event, blank):
    make_event(capacity=1)
    response = submit_registration(app.test_client(), email=blank)

    assert response.status_code == 400
    assert "Please enter your email address." in text_of(response)
    assert 'value="Ana Flores"' in response.get_data(as_text=True)  # the rest is kept
    assert rows(app, Registration) == []
    assert rows(app, OutboxMessage) == []


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_name_is_refused_with_its_own_message(app, make_event, blank):
    make_event()
    response = submit_registration(app.test_client(), name=blank)

    assert response.status_code == 400
    assert "Please tell us your name." in text_of(response)
    assert rows(app, Registration) == []


def test_the_message_is_in_the_pages_language(app, make_event):
    make_event()
    client = app.test_client()
    client.get("/language/es")
    response = submit_registration(client, email="\u200b")
    assert "Escribe tu dirección de correo electrónico." in text_of(response)


@pytest.mark.parametrize("field", ["name", "email"])
def test_a_blank_signature_is_not_stored(app, statement, field):
    response = sign(app.test_client(), **{field: " \u00a0\u200b "})

    assert response.status_code == 400
    assert rows(app, Signature) == []
    assert rows(app, OutboxMessage) == []


def test_a_name_with_a_joiner_inside_is_still_a_name(app, make_event):
    make_event()
    response = submit_registration(app.test_client(), name="\u200b👩\u200d💻 Ana ")
    assert response.status_code == 302
    [registration] = rows(app, Registration)
    assert registration.name == "👩\u200d💻 Ana"


def all_forms(base: type = Form) -> list[type]:
    import service.organisers.views
    import service.registration.views
    import service.statements.views  # noqa: F401

    found = []
    for subclass in base.__subclasses__():
        found += [subclass, *all_forms(subclass)]
    return found


def test_no_text_field_in_any_form_counts_spaces_as_an_answer():
    """InputRequired looks at the raw input, which spaces fill: text fields use Required."""
    offenders = [
        f"{form.__name__}.{name}"
        for form in all_forms()
        for name, value in vars(form).items()
        if getattr(value, "field_class", None)
        and issubclass(value.field_class, StringField)
        and not issubclass(value.field_class, PasswordField)
        and any(
            type(validator) is InputRequired for validator in value.kwargs.get("validators", ())
        )
    ]
    assert len(all_forms()) > 8
    assert offenders == []


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Registration, {"name": "Ana", "email": ""}),
        (Registration, {"name": "   ", "email": "ana@example.org"}),
        (Signature, {"name": "Ana", "email": "  "}),
    ],
)
def test_the_database_refuses_an_empty_name_or_email_from_any_path(
    app_context, make_event, statement, model, values
):
    if model is Registration:
        event = make_event()
        row = Registration(event_id=event.id, created_at=datetime.now(UTC), **values)
    else:
        row = Signature(
            statement_id=statement.id, sort_key="x", created_at=datetime.now(UTC), **values
        )
    db.session.add(row)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

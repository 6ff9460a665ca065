"""The smallest honest registration on our stack, the baseline of bench/registration.py:
a Flask-WTF form (CSRF, name, email checked by email-validator) whose POST inserts one row
through the Flask-SQLAlchemy ORM and commits. ``BENCH_DATABASE_URL`` is its database and
``BENCH_SQLITE_PRAGMAS`` (JSON) the pragmas our app's SQLite connections run with."""

import json
import os
import sqlite3
from typing import Any

from flask import Flask, redirect, render_template_string
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from sqlalchemy import Engine, String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from wtforms import StringField
from wtforms.validators import DataRequired, Email, Length


class Base(DeclarativeBase):
    pass


app = Flask(__name__)
app.config.update(
    SECRET_KEY="bench",
    SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
    SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},  # as service/config.py
)
db = SQLAlchemy(app, model_class=Base)
PRAGMAS: dict[str, Any] = json.loads(os.environ.get("BENCH_SQLITE_PRAGMAS", "{}"))


class Registration(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "baseline_registrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))


class RegistrationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = StringField("Email", validators=[DataRequired(), Email(), Length(max=254)])


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        for name in sorted(PRAGMAS, key=lambda name: name != "journal_mode"):
            dbapi_connection.execute(f"PRAGMA {name}={PRAGMAS[name]}")


with app.app_context():
    db.create_all()

FORM = """<form method="post">{{ form.csrf_token }}{{ form.name() }}{{ form.email() }}
<button>Register</button></form>"""


@app.get("/")
def ready() -> str:
    return "ok"


@app.route("/register", methods=["GET", "POST"])
def register() -> Any:
    form = RegistrationForm()
    if form.validate_on_submit():
        db.session.add(Registration(name=form.name.data, email=form.email.data))
        db.session.commit()
        return redirect("/registered")
    return render_template_string(FORM, form=form), 400 if form.errors else 200


@app.get("/registered")
def registered() -> str:
    return "registered"

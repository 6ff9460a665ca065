"""Flask-Login wiring: organisers are loaded from their session by id and session key."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from service.extensions import login_manager
from service.organisers import service
from service.organisers.models import Organiser


def init_app(app: Flask) -> None:
    login_manager.login_view = "organisers.login"
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str) -> Organiser | None:
        return service.load_organiser(session_id)

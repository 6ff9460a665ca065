"""The one access rule of the organisers' pages: each area's management blueprint (events,
attendees, statements) is built here, so all of them sit under ``/organisers``, answer only a
logged-in organiser, and let no cache keep a copy of what they show."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from werkzeug.wrappers import Response

from service.extensions import login_manager
from service.security import forbid_storing


def management_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under ``/organisers`` whose every page needs an organiser's login."""
    bp = Blueprint(name, import_name, url_prefix="/organisers")
    bp.before_request(require_organiser)
    # Every organisers' page shows personal data or the way to it: no cache keeps a copy.
    bp.after_request(forbid_storing)
    return bp


def require_organiser() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None

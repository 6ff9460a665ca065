"""Read-only JSON for embedding events on a campaign's own website (CORS open for GET)."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from werkzeug.wrappers import Response

from service.db import utc_now
from service.events import service

bp = Blueprint("events_api", __name__, url_prefix="/api")


@bp.after_request
def allow_cross_origin_reads(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET"
    return response


@bp.get("/events")
def list_events() -> Response:
    events = service.list_upcoming(utc_now())
    return jsonify({"events": [service.public_event_data(event) for event in events]})


@bp.get("/events/<slug>")
def show_event(slug: str) -> Response:
    event = service.get_public_event(slug)
    if event is None:
        abort(404)
    return jsonify(service.public_event_data(event))

"""``/healthz`` for load balancers and monitors: the database answers and a scheduler beats."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from service.db import utc_now
from service.extensions import csrf, limiter
from service.ops import service

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz() -> Response:
    """200 when healthy, else 503; JSON without personal data or host names; never cached."""
    health = service.check_health(utc_now())
    if not health.database:
        scheduler = "unknown"
    elif health.heartbeat_age is None:
        scheduler = "missing"
    else:
        scheduler = "late" if health.scheduler_late else "ok"
    age = health.heartbeat_age
    response = jsonify(
        status="ok" if health.healthy else "fail",
        database="ok" if health.database else "fail",
        scheduler=scheduler,
        scheduler_last_seen_seconds=None if age is None else int(age.total_seconds()),
    )
    response.status_code = 200 if health.healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response

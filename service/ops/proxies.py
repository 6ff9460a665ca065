"""Proxies in front: trust ``TRUSTED_PROXIES`` hops of X-Forwarded-*, or note that a request
came with X-Forwarded-For while none is trusted (``flask doctor`` warns about it)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from service.db import utc_now
from service.extensions import db
from service.ops import service

log = logging.getLogger(__name__)
# A process writes the sighting (and logs it) at most this often.
NOTE_EVERY = timedelta(minutes=10)
_NOTED = "convoca_forwarded_for_noted"


def init_app(app: Flask) -> None:
    """Behind proxies, the visitor's address (rate limits), scheme (``request.is_secure``) and
    host come from the X-Forwarded-* headers the nearest proxies set; otherwise they are ignored,
    as anyone can send them."""
    trusted = int(app.config["TRUSTED_PROXIES"])
    if trusted:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted
        )
    else:
        app.before_request(note_untrusted_forwarding)


def note_untrusted_forwarding() -> None:
    if "X-Forwarded-For" not in request.headers:
        return
    now = utc_now()
    noted: datetime | None = current_app.extensions.get(_NOTED)
    if noted is not None and now - noted < NOTE_EVERY:
        return
    current_app.extensions[_NOTED] = now
    log.warning(
        "a request came with X-Forwarded-For but CONVOCA_TRUSTED_PROXIES is 0: if a proxy is "
        "in front, every visitor shares its address (and one rate limit)"
    )
    try:
        service.record_observation(service.UNTRUSTED_FORWARDED_FOR, now)
    except SQLAlchemyError:  # a busy database is no reason to refuse the visitor
        db.session.rollback()
        log.exception("could not record the X-Forwarded-For sighting")

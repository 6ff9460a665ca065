"""Absolute URLs that are right inside and outside a request (mail, feeds, CLI)."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for

FALLBACK_BASE = "http://127.0.0.1:5000"


def absolute_url(endpoint: str, **values: Any) -> str:
    """``PUBLIC_URL`` + path where configured, else the address the request came in on."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    if has_request_context():
        path = url_for(endpoint, **values)
        base = base or request.host_url.rstrip("/")
    else:
        adapter = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
        path = adapter.build(endpoint, values)
        base = base or FALLBACK_BASE
    return base + path

"""Absolute URLs, the same inside and outside a request (mail, feeds, CLI): always
``PUBLIC_URL`` + path, never the request's Host header, which anyone can set."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values: Any) -> str:
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        adapter = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
        path = adapter.build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path

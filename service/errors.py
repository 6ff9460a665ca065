"""Error pages in the site's layout and language."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from service.extensions import db


def render_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    template = "errors/404.html" if code in (404, 405) else "errors/error.html"
    return render_template(template, code=code), code


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(500)
    def internal_error(_error: Exception) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/500.html", code=500), 500

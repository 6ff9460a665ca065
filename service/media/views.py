"""The images' files, served for a year (their names change when their content does), the
templates' helpers for images and the site's look, and the "too large" page of uploads."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from service.errors import render_error
from service.extensions import db
from service.media import service
from service.media.models import Image, SiteSettings
from service.media.uploads import is_upload_request
from service.urls import absolute_url

bp = Blueprint("media", __name__)

FILE_NAME = re.compile(r"[0-9a-f]{64}-[0-9]{1,5}\.(webp|jpg)")
A_YEAR = 365 * 24 * 3600


@bp.get("/media/<name>")
def image_file(name: str) -> Response:
    if not FILE_NAME.fullmatch(name):
        abort(404)
    response = send_from_directory(service.media_folder(), name, max_age=A_YEAR)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


@bp.app_errorhandler(413)
def too_large(error: HTTPException) -> tuple[str, int]:
    if not is_upload_request(request):
        return render_error(error)
    return render_template("media/too_large.html", code=413), 413


@bp.app_template_global()
def image_url(image: Image, width: int | None = None) -> str:
    return url_for("media.image_file", name=image.file_name(width or image.width))


@bp.app_template_global()
def image_srcset(image: Image) -> str:
    return ", ".join(f"{image_url(image, width)} {width}w" for width in image.widths)


@bp.app_template_global()
def share_image_url(image: Image) -> str:
    """The JPEG of the largest width: every share preview (WhatsApp, Facebook) reads it."""
    return absolute_url("media.image_file", name=image.file_name(image.width, "jpg"))


@bp.app_template_global()
def site_look() -> SiteSettings | None:
    """The introduction and the logo, read once per request. An error page rendered because
    the database failed still renders, with the organisation's name for a logo."""
    if "site_look" not in g:
        try:
            g.site_look = service.site_settings()
        except SQLAlchemyError:
            db.session.rollback()
            g.site_look = None
    return g.site_look

"""Which requests may carry an image: ``MAX_CONTENT_LENGTH`` stays small for every other form,
and a view marked ``@takes_image_upload`` reads up to ``IMAGE_MAX_BYTES`` plus a megabyte for
its other fields. The limit must be known before Flask-WTF's CSRF check reads the form, hence
a request class rather than a line in the view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Request, current_app

TAKES_UPLOAD = "takes_image_upload"
# Room for the other fields of an upload form (texts, the CSRF token, multipart framing).
FORM_ALLOWANCE = 1024 * 1024

View = TypeVar("View", bound=Callable[..., Any])


def takes_image_upload(view: View) -> View:
    """Mark a view whose form carries an image (put it under ``@bp.route``)."""
    setattr(view, TAKES_UPLOAD, True)
    return view


def upload_limit() -> int:
    return int(current_app.config["IMAGE_MAX_BYTES"]) + FORM_ALLOWANCE


def is_upload_request(request: Request) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, TAKES_UPLOAD, False))


class UploadRequest(Request):
    """Flask's request, with the larger body limit on the views that take an image."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and current_app and is_upload_request(self):
            return upload_limit()
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

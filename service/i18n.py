"""Language choice: a switch on every page (remembered in a cookie), else Accept-Language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, url_for
from flask_babel import format_decimal, get_locale
from werkzeug.wrappers import Response

bp = Blueprint("i18n", __name__)

LANGUAGE_NAMES = {"en": "English", "es": "Español"}
ONE_YEAR = 365 * 24 * 3600


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(current_app.config["LANGUAGE_COOKIE"])
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def safe_next(target: str | None, default: str | None = None) -> str:
    """A same-site path to return to; anything else goes to ``default`` (the home page unless
    given): other hosts, ``//x``, a backslash anywhere (browsers read it as a slash), and any
    control character (a line break would split the Location header; browsers drop tabs and
    line breaks from addresses, so ``/<tab>/x`` would lead to the host x)."""
    fallback = default or url_for("events.list_events")
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
    ):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


@bp.get("/language/<language>")
def switch_language(language: str) -> Response:
    response = redirect(safe_next(request.args.get("next")))
    if language in current_app.config["LANGUAGES"]:
        response.set_cookie(
            current_app.config["LANGUAGE_COOKIE"],
            language,
            max_age=ONE_YEAR,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    return response


def init_app(app: Flask) -> None:
    # {{ count | number }}: 100,007 in English, 100.007 in Spanish (Babel's CLDR rules).
    app.add_template_filter(format_decimal, "number")

    @app.context_processor
    def language_switch() -> dict[str, object]:
        language = current_language()
        if not has_request_context():  # mail rendered by a job: no page to switch
            return {"current_language": language, "other_languages": []}
        here = request.full_path.rstrip("?")
        return {
            "current_language": language,
            "other_languages": [
                (
                    code,
                    LANGUAGE_NAMES[code],
                    url_for("i18n.switch_language", language=code, next=here),
                )
                for code in app.config["LANGUAGES"]
                if code != language
            ],
        }

"""Public pages rendered once every few seconds (per process, language and address), not on
every visit: a shared link can bring thousands of people to one event page in minutes.

A page holding a form is cached with a placeholder where its CSRF token goes, and each visitor
gets their own token, bound to their own session, as Flask-WTF would have given them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request
from flask_wtf.csrf import generate_csrf

from service.extensions import cache
from service.i18n import current_language

CSRF_SLOT = "__convoca_csrf_token__"


def cached_page(render: Callable[[], str]) -> str:
    """``render()``'s page, from the cache when it is young enough (``PAGE_CACHE_SECONDS``)."""
    seconds = int(current_app.config["PAGE_CACHE_SECONDS"])
    if seconds <= 0:
        return render()
    # No Host in the key: pages link with PUBLIC_URL, whatever Host a request names.
    key = f"page:{current_language()}:{request.full_path}"
    page: str | None = cache.get(key)
    if page is None:
        page = render()
        token = g.get(current_app.config["WTF_CSRF_FIELD_NAME"])
        cache.set(key, page.replace(token, CSRF_SLOT) if token else page, timeout=seconds)
        return page
    if CSRF_SLOT in page:
        page = page.replace(CSRF_SLOT, generate_csrf())
    return page

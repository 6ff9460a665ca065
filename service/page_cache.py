"""Public pages rendered once every few seconds (per process, language and address), not on
every visit: a shared link can bring thousands of people to one event page in minutes.

A page holding a form is cached with a placeholder where its CSRF token goes, and each visitor
gets their own token, bound to their own session, as Flask-WTF would have given them.

Pages of one thing (a statement: its page under any query, in any language) share a *scope*:
``clear_pages(scope)`` forgets them all at once, and only them, on any cache backend (a key
per process with SimpleCache; shared by every worker with Redis). The scope's keys carry a
generation stored in the cache itself; clearing moves it on, and the old copies just expire.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

from flask import current_app, g, request
from flask_wtf.csrf import generate_csrf

from service.extensions import cache
from service.i18n import current_language

CSRF_SLOT = "__convoca_csrf_token__"


def cached_page(render: Callable[[], str], scope: str | None = None) -> str:
    """``render()``'s page, from the cache when it is young enough (``PAGE_CACHE_SECONDS``);
    ``scope`` names what the page shows, for ``clear_pages``."""
    seconds = int(current_app.config["PAGE_CACHE_SECONDS"])
    if seconds <= 0:
        return render()
    # No Host in the key: pages link with PUBLIC_URL, whatever Host a request names.
    scoped = f"{scope}@{cache.get(_generation_key(scope)) or 0}:" if scope else ""
    key = f"page:{scoped}{current_language()}:{request.full_path}"
    page: str | None = cache.get(key)
    if page is None:
        page = render()
        token = g.get(current_app.config["WTF_CSRF_FIELD_NAME"])
        cache.set(key, page.replace(token, CSRF_SLOT) if token else page, timeout=seconds)
        return page
    if CSRF_SLOT in page:
        page = page.replace(CSRF_SLOT, generate_csrf())
    return page


def clear_pages(scope: str) -> None:
    """Forget the cached pages of ``scope`` (call it after the change is committed)."""
    # A new value, not an increment: any change will do, and it never expires (timeout 0).
    cache.set(_generation_key(scope), uuid4().hex, timeout=0)


def _generation_key(scope: str) -> str:
    return f"page-generation:{scope}"

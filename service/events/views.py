"""Public event pages and calendar files."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from service.db import utc_now
from service.errors import render_error
from service.events import ics, series, service
from service.events.models import Event, EventFormat, EventStatus
from service.events.timing import event_timing, format_moment
from service.i18n import current_language
from service.media import service as media
from service.page_cache import cached_page
from service.pagination import MAX_PAGE
from service.text import render_markdown
from service.urls import absolute_url

bp = Blueprint("events", __name__)

CALENDAR_TYPE = "text/calendar"  # Werkzeug adds "; charset=utf-8" to text types


@bp.get("/")
def list_events() -> str:
    return cached_page(_render_event_list)


def _render_event_list() -> str:
    events = service.list_upcoming(utc_now())
    site = media.site_settings()
    introduction = site.localised_introduction(current_language()) if site else ""
    return render_template(
        "events/list.html",
        events=events,
        timings=_timings(events),
        introduction=render_markdown(introduction),
    )


@bp.get("/events/past")
def list_past_events() -> str:
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_PAGE:  # an offset past 64 bits is an error in PostgreSQL
        abort(404)
    events, has_next = service.list_past(utc_now(), page)
    return render_template(
        "events/past.html", events=events, timings=_timings(events), page=page, has_next=has_next
    )


@bp.get("/events/<slug>")
def show_event(slug: str) -> str:
    return cached_page(lambda: _render_event_page(slug))


def _render_event_page(slug: str) -> str:
    return render_event_page(_public_event_or_404(slug))


def render_event_page(event: Event, *, preview: bool = False) -> str:
    """The event's public page (``preview``: for organisers, drafts too, with a banner)."""
    language = current_language()
    url = absolute_url("events.show_event", slug=event.slug)
    return render_template(
        "events/show.html",
        event=event,
        title=event.localised("title", language),
        summary=event.localised("summary", language),
        description=render_markdown(event.localised("description", language)),
        timing=event_timing(event),
        is_past=event.ends_at < utc_now(),
        url=url,
        share_links=share_links(url, event.localised("title", language)),
        preview=preview,
    )


@bp.get("/events/<slug>.ics")
def download_event_calendar(slug: str) -> Response:
    calendar = cached_page(
        lambda: ics.event_calendar(_public_event_or_404(slug), utc_now()).decode()
    )
    return Response(
        calendar,
        mimetype=CALENDAR_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{slug}.ics"'},
    )


@bp.get("/events.ics")
def calendar_feed() -> Response:
    calendar = cached_page(
        lambda: ics.feed_calendar(service.list_upcoming(utc_now()), utc_now()).decode()
    )
    return Response(
        calendar,
        mimetype=CALENDAR_TYPE,
        headers={"Content-Disposition": 'inline; filename="events.ics"'},
    )


@bp.get("/series/<slug>")
def show_series(slug: str) -> str:
    return cached_page(lambda: _render_series_page(slug))


def _render_series_page(slug: str) -> str:
    page = series.public_series(slug, utc_now())
    if page is None:
        abort(404)
    return render_template(
        "events/series.html",
        page=page,
        timings=_timings([*page.upcoming, *page.past]),
        url=absolute_url("events.show_series", slug=slug),
    )


@bp.app_template_global()
def series_of(event: Event) -> series.SeriesPage | None:
    """For the event's page: the other public dates of its series (``events/_series.html``)."""
    return series.series_of(event, utc_now())


# An address under /events/<slug>: the page, its .ics, and every sub-page of any area.
_EVENT_ADDRESS = re.compile(r"/events/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?P<rest>\.ics|/.*)?")


@bp.app_errorhandler(404)
def follow_old_address(error: NotFound) -> BaseResponse | tuple[str, int]:
    """A public address of a renamed event answers with a 301 to the same page at its new
    address; anything else is the usual 404 page. Only GET and HEAD: a form sent to an old
    address is not sent again elsewhere."""
    found = _EVENT_ADDRESS.fullmatch(request.path)
    if found and request.method in ("GET", "HEAD"):
        slug = service.current_slug(found["slug"])
        if slug is not None:
            target = f"/events/{slug}{found['rest'] or ''}"
            query = request.query_string.decode()
            return redirect(f"{target}?{query}" if query else target, code=301)
    return render_error(error)


def _public_event_or_404(slug: str) -> Event:
    event = service.get_public_event(slug)
    if event is None:
        abort(404)
    return event


def _timings(events: list[Event]) -> dict[int, object]:
    return {event.id: event_timing(event) for event in events}


def share_links(url: str, title: str) -> list[tuple[str, str]]:
    """Plain links to share the page: no third-party script, image or font is loaded."""
    text = f"{title} {url}"
    return [
        ("email", "mailto:?" + urlencode({"subject": title, "body": text}, quote_via=quote)),
        ("facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ("x", "https://x.com/intent/post?" + urlencode({"text": title, "url": url})),
        ("whatsapp", "https://wa.me/?" + urlencode({"text": text})),
        ("telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": title})),
    ]


FORMAT_LABELS = {
    EventFormat.ONLINE: _l("Online"),
    EventFormat.IN_PERSON: _l("In person"),
    EventFormat.HYBRID: _l("In person and online"),
}
SHARE_LABELS = {
    "email": _l("Email"),
    "facebook": _l("Facebook"),
    "x": _l("X (Twitter)"),
    "whatsapp": _l("WhatsApp"),
    "telegram": _l("Telegram"),
}


@bp.app_template_global()
def format_label(event_format: EventFormat) -> str:
    return str(FORMAT_LABELS[event_format])


@bp.app_template_global()
def share_label(network: str) -> str:
    return str(SHARE_LABELS[network])


@bp.app_template_global()
def format_event_moment(event: Event, moment: datetime) -> str:
    return format_moment(moment, event.zone)


STATUS_LABELS = {
    EventStatus.DRAFT: _l("Draft"),
    EventStatus.PUBLISHED: _l("Published"),
    EventStatus.CANCELLED: _l("Cancelled"),
}


@bp.app_template_global()
def status_label(status: EventStatus) -> str:
    return str(STATUS_LABELS[status])

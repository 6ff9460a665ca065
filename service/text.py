"""Markdown written by organisers, rendered to HTML that is safe to show to anyone."""

from __future__ import annotations

import html
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


@cache
def _parser() -> MarkdownIt:
    # Raw HTML in the source is escaped by the parser; nh3 then removes whatever slipped through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(source: str | None) -> Markup:
    if not source:
        return Markup("")
    html = _parser().render(source)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(cleaned)  # noqa: S704 - sanitised by nh3 just above


def plain_text(source: str | None) -> str:
    """Markdown reduced to readable text, for calendar descriptions and the text part of mail:
    tags dropped, and the entities they leave (``&amp;``) read back."""
    if not source:
        return ""
    return html.unescape(nh3.clean(_parser().render(source), tags=set())).strip()

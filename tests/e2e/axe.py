"""axe-core (from npm, see package.json) run inside the browser tests' own pages.

Our strict CSP (``script-src 'self'``) blocks a script that the test injects, so the pages to
check come from a context opened with ``bypass_csp=True`` (``open_axe_context``): only for this
check, never for the journeys, which must meet the CSP a visitor gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _require_axe() -> None:
    if not AXE_SCRIPT.is_file():
        pytest.fail(
            f"axe-core is not installed ({AXE_SCRIPT} is missing): run `make test`, which "
            "installs it with `npm install` (target calendar-tools)",
            pytrace=False,
        )


def open_axe_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context whose pages all have axe loaded (and the CSP bypassed for it)."""
    _require_axe()
    context = browser.new_context(bypass_csp=True, **options)
    context.add_init_script(path=AXE_SCRIPT)
    return context


def axe_violations(page: Page, *, exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
    """axe's WCAG 2.1 A/AA violations on the page as it is now, skipping the nodes matched by
    the CSS selectors in ``exclude`` (each one a known false positive, said why where passed).
    The page must come from a context that bypasses the CSP, such as ``open_axe_context``."""
    _require_axe()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        """([tags, exclude]) => axe.run(
            {exclude: exclude.map((selector) => [selector])},
            {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]},
        )""",
        [WCAG_21_AA, list(exclude)],
    )
    return result["violations"]


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per rule: its id, impact and help text, then each failing node."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            selector = " > ".join(str(part) for part in node["target"])
            summary = node["failureSummary"].replace("\n", " ").strip()
            lines.append(f"    {selector}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, exclude: Sequence[str] = ()) -> None:
    """Fail with a readable list if axe finds a WCAG 2.1 A/AA violation on ``page``."""
    violations = axe_violations(page, exclude=exclude)
    assert not violations, f"axe on {page.url}:\n{describe(violations)}"

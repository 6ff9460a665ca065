"""Imports run down the layers, never up (STYLE.md section 2, docs in README's Layout).

Every module under ``service/`` is read with ``ast`` (nothing is imported) and placed in its
area. The layers, top to bottom:

    wiring (the app factory, service/cli.py, demo.py, models.py): may import anything
    organisers
    scheduler → ops
    followups
    statements, reminders
    registration
    events
    access, audit, media
    mail
    base (the top-level service/*.py modules)

A non-web module (models, service, forms, other helpers) imports only its own area and the
areas ``ALLOWED`` names for it. A web module (``WEB_MODULES``: blueprints and command groups)
may import any area's non-web modules. No module imports another area's web module: areas call
each other through their ``service.py`` and the other non-web modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"
AREAS = {"events", "registration", "statements", "reminders", "organisers", "mail"}
AREAS |= {"scheduler", "ops", "access", "audit", "media", "followups"}
WIRING = {"service", "service.cli", "service.demo", "service.models"}
WEB_MODULES = {
    "views",
    "manage",
    "attendees",
    "door",
    "api",
    "cli",
    "welcome",
    "second_factor",
    "team",
}

BELOW_EVENTS = {"access", "audit", "media", "mail", "base"}
BELOW_REGISTRATION = {"events", *BELOW_EVENTS}
# Which areas a non-web module of each area may import, beside its own.
ALLOWED = {
    "base": set(),
    "mail": {"base"},
    "access": {"mail", "base"},
    "audit": {"base"},
    "media": {"base"},
    "events": BELOW_EVENTS,
    "registration": BELOW_REGISTRATION,
    # Statements need events' slug rule only; they do not build on registrations.
    "statements": BELOW_REGISTRATION,
    "reminders": {"registration", *BELOW_REGISTRATION},
    # A follow-up goes to an event's registrants and asks them to sign a statement.
    "followups": {"statements", "registration", *BELOW_REGISTRATION},
    "ops": {"statements", "reminders", "registration", *BELOW_REGISTRATION},
    "scheduler": {
        "ops",
        "followups",
        "statements",
        "reminders",
        "registration",
        *BELOW_REGISTRATION,
    },
    "organisers": {"statements", "reminders", "registration", *BELOW_REGISTRATION},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVICE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def area_of(module: str) -> str:
    """``wiring``, one of ``AREAS``, or ``base`` (a top-level module such as service.db)."""
    if module in WIRING:
        return "wiring"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in AREAS) else "base"


def is_web(module: str) -> bool:
    parts = module.split(".")
    return len(parts) == 3 and parts[1] in AREAS and parts[2] in WEB_MODULES


def imports_of(path: Path, module: str, source: str | None = None) -> list[tuple[int, str]]:
    """(line, module) for every ``service`` module imported, at any depth of the file except
    a ``TYPE_CHECKING`` block (annotations only: nothing runs)."""
    tree = ast.parse(source if source is not None else path.read_text(), filename=str(path))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for statement in block.body
        for node in ast.walk(statement)
    }
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "service":  # from service import cli, demo: each a module
                found += [(node.lineno, f"service.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return [(line, name) for line, name in found if name.split(".")[0] == "service"]


def problems_of(path: Path, source: str | None = None) -> list[str]:
    module = module_name(path)
    area = area_of(module)
    problems = []
    for line, imported in imports_of(path, module, source):
        target = area_of(imported)
        where = f"{path.relative_to(SERVICE.parent)}:{line} imports {imported}"
        if area == "wiring" or target == area:
            continue
        if is_web(imported):
            problems.append(f"{where}: another area's web module")
        elif target == "wiring":
            problems.append(f"{where}: the wiring sits above every area")
        elif not is_web(module) and target not in ALLOWED[area]:
            problems.append(f"{where}: {area} may not import {target} (up the layers)")
    return problems


MODULES = sorted(SERVICE.rglob("*.py"))


def test_every_module_is_placed():
    placed = {area_of(module_name(path)) for path in MODULES}
    assert placed == {"wiring", "base", *AREAS}
    assert set(ALLOWED) == {"base", *AREAS}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_imports_run_down_the_layers(path: Path):
    assert problems_of(path) == []


@pytest.mark.parametrize(
    ("path", "line", "why"),
    [
        ("events/service.py", "from service.registration import service", "up the layers"),
        ("service/forms.py", "from service.mail.service import dispatch_due", "up the layers"),
        ("events/manage.py", "from service.registration.attendees import bp", "web module"),
        ("statements/service.py", "from service.reminders import service", "up the layers"),
        ("registration/roster.py", "from service import cli", "wiring"),
        ("mail/service.py", "from ..events import models", "up the layers"),
    ],
)
def test_an_import_up_the_layers_is_caught(path: str, line: str, why: str):
    """The check itself: a bad import added to a real module is reported."""
    real = SERVICE / path.removeprefix("service/")
    [problem] = problems_of(real, real.read_text() + "\n" + line + "\n")
    assert why in problem


def test_web_modules_may_use_any_areas_services():
    real = SERVICE / "events" / "cli.py"
    source = real.read_text() + "\nfrom service.statements import service as statements\n"
    assert problems_of(real, source) == []

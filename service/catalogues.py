"""Checks that every translatable string in the code is translated in every catalogue.

``python -m service.catalogues`` (run by ``make lint``) exits 1 and lists what is wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHOD_MAP = [
    ("service/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]


def source_messages(project_root: Path) -> set[str]:
    """Every msgid marked for translation in the Python code and templates."""
    messages: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(project_root), METHOD_MAP, keywords=KEYWORDS
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def catalogue_problems(project_root: Path) -> list[str]:
    """Missing, untranslated, fuzzy and obsolete entries, one per line; empty when all is well."""
    wanted = source_messages(project_root)
    problems: list[str] = []
    for po_path in sorted((project_root / "service" / "translations").glob("*/LC_MESSAGES/*.po")):
        language = po_path.parts[-3]
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file)
        present: set[str] = set()
        for message in catalogue:
            if not message.id:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            present.add(msgid)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if msgid in wanted and not all(strings):
                problems.append(f"{language}: untranslated: {msgid!r}")
            if msgid in wanted and message.fuzzy:
                problems.append(f"{language}: fuzzy: {msgid!r}")
        problems += [f"{language}: missing: {msgid!r}" for msgid in sorted(wanted - present)]
        problems += [f"{language}: obsolete: {msgid!r}" for msgid in sorted(present - wanted)]
    return problems


def main() -> int:
    problems = catalogue_problems(Path(__file__).resolve().parent.parent)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): run 'make babel', then translate", file=sys.stderr)
        return 1
    print("translations complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())

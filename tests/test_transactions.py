"""Transactions are committed in one place: ``service.db.unit_of_work``. Every other
``commit(`` call under service/ is a unit of work that was not written as one."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db import UnsavedChanges, unit_of_work
from service.extensions import db
from service.ops.models import Observation

SERVICE = Path(__file__).resolve().parent.parent / "service"
NOW = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)
ALLOWED = {"db.py"}  # unit_of_work, and begin_writing ending a transaction that only read


def commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_only_the_unit_of_work_commits():
    found = [
        f"service/{name}:{line}"
        for path in sorted(SERVICE.rglob("*.py"))
        if (name := path.relative_to(SERVICE).as_posix()) not in ALLOWED
        for line in commit_calls(path)
    ]
    assert not found, "commit() outside service/db.py (use unit_of_work): " + ", ".join(found)


def _observations() -> list[str]:
    return list(db.session.scalars(select(Observation.name).order_by(Observation.name)))


def _observe(name: str) -> None:
    db.session.add(Observation(name=name, last_seen_at=NOW))
    db.session.flush()


def test_a_unit_commits_and_rolls_back_on_error_and_an_inner_unit_joins_the_outer(
    app_context,
):
    with unit_of_work():
        _observe("kept")
    with pytest.raises(LookupError), unit_of_work():
        _observe("lost")
        with unit_of_work():  # joins: its end commits nothing
            _observe("lost too")
        raise LookupError
    assert _observations() == ["kept"]


@pytest.mark.parametrize("flushed", [False, True], ids=["pending", "flushed"])
def test_changes_made_outside_a_unit_are_refused_not_committed(app_context, flushed):
    db.session.add(Observation(name="stray", last_seen_at=NOW))
    if flushed:
        db.session.flush()
    with pytest.raises(UnsavedChanges), unit_of_work():
        pass
    db.session.rollback()
    assert _observations() == []
    with unit_of_work():  # a rollback ends the stray transaction: units work again
        _observe("after")
    assert _observations() == ["after"]

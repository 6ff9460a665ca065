"""The one access check of the management pages: each view declares the permission it needs
(``requires``), and the blueprint's ``before_request`` checks it against the account's role on
the event or statement the URL's ``slug`` names: 404 when the account may not see it, 403 when
its role does not allow the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from service import manage
from service.access.service import (
    EVENT_PERMISSIONS,
    STATEMENT_PERMISSIONS,
    Permission,
    may,
    may_see,
)

REQUIRED = "required_permission"


def requires(permission: Permission) -> Callable[[Any], Any]:
    """Declare the permission a management view needs (put it under ``@bp.route``)."""

    def declare(view: Any) -> Any:
        setattr(view, REQUIRED, permission)
        return view

    return declare


def management_blueprint(
    name: str,
    import_name: str,
    find_event_id: Callable[[str], int | None] | None = None,
    find_statement_id: Callable[[str], int | None] | None = None,
) -> Blueprint:
    """``service.manage.management_blueprint`` whose views each need their declared
    permission on the event (or statement, by the permission's kind) that the finder finds
    from the ``slug`` view argument."""
    bp = manage.management_blueprint(name, import_name)

    @bp.before_request
    def check_permission() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        permission = getattr(view, REQUIRED, None)
        if permission is None:  # a view that declares nothing is open to nobody
            abort(403)
        slug = (request.view_args or {}).get("slug")
        if slug is None:
            if not may(current_user, permission):
                abort(403)
            return
        event_id = statement_id = None
        if permission in EVENT_PERMISSIONS and find_event_id is not None:
            event_id = find_event_id(slug)
            found = event_id
        elif permission in STATEMENT_PERMISSIONS and find_statement_id is not None:
            statement_id = find_statement_id(slug)
            found = statement_id
        else:
            abort(403)
        if found is None or not may_see(current_user, event_id, statement_id):
            abort(404)
        if not may(current_user, permission, event_id, statement_id):
            abort(403)

    bp.add_app_template_global(may_in_template, "may")
    return bp


def may_in_template(permission: str, event: Any = None, statement: Any = None) -> bool:
    """``may('EVENT_EXPORT', event=event)`` in a template: whether to show that action."""
    return may(
        current_user,
        Permission[permission],
        event.id if event is not None else None,
        statement.id if statement is not None else None,
    )

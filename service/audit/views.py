"""The audit record in the web, for admins only: ``/organisers/audit``, newest first, with
filters (account, action, event or statement, dates in the site's zone) and pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from service.audit import service
from service.extensions import login_manager
from service.pagination import MAX_PAGE
from service.security import forbid_storing

bp = Blueprint("audit", __name__, url_prefix="/organisers")
bp.after_request(forbid_storing)
PAGE_SIZE = 50
# What each action is called on the page; the filter offers these.
ACTION_LABELS = {
    "login": _l("Logged in"),
    "login.failed": _l("Failed login"),
    "login.password": _l("Password right, code awaited"),
    "login.failed_code": _l("Wrong second-factor code"),
    "logout": _l("Logged out"),
    "password.reset_requested": _l("Password reset asked for"),
    "password.reset": _l("Password reset"),
    "second_factor.enabled": _l("Second factor turned on"),
    "second_factor.disabled": _l("Second factor turned off"),
    "second_factor.recovery_code_used": _l("Recovery code used"),
    "invitation.sent": _l("Invitation sent"),
    "invitation.revoked": _l("Invitation revoked"),
    "invitation.accepted": _l("Invitation accepted"),
    "accounts.enable": _l("Account enabled"),
    "accounts.disable": _l("Account disabled"),
    "events.create": _l("Event created"),
    "events.edit": _l("Event edited"),
    "events.status": _l("Event status changed"),
    "events.question_add": _l("Question added"),
    "events.question_remove": _l("Question removed"),
    "attendees.list": _l("Attendee list viewed"),
    "attendees.export": _l("Attendees exported"),
    "attendees.message": _l("Message sent"),
    "followups.save": _l("Follow-up saved"),
    "followups.test": _l("Follow-up test sent"),
    "attendees.check_in": _l("Checked in"),
    "attendees.check_in_undo": _l("Check-in undone"),
    "attendees.resend": _l("Confirmation sent again"),
    "attendees.cancel": _l("Registration cancelled"),
    "statements.create": _l("Statement created"),
    "statements.edit": _l("Statement edited"),
    "signatures.list": _l("Signature list viewed"),
    "signatures.moderate": _l("Signature moderated"),
    "signatures.export": _l("Signatures exported"),
    "site.look": _l("The site's look changed"),
}


@bp.before_request
def require_admin() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


@bp.get("/audit")
def list_entries() -> tuple[str, int]:
    arguments = {
        name: _clean(request.args.get(name, ""))
        for name in ("account", "action", "subject", "since", "until")
    }
    errors = []
    try:
        since, until = _day(arguments["since"]), _day(arguments["until"], days_after=1)
    except (ValueError, OverflowError):
        since = until = None
        errors.append(_("Dates are written as YYYY-MM-DD, e.g. 2027-04-19."))
    filters = service.AuditFilter(
        account=arguments["account"],
        action=arguments["action"] if arguments["action"] in ACTION_LABELS else "",
        subject=arguments["subject"],
        since=since,
        until=until,
    )
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    total = service.count_entries(filters)
    return render_template(
        "audit/list.html",
        entries=service.list_entries(filters, page=page, limit=PAGE_SIZE),
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        arguments={name: value or None for name, value in arguments.items()},
        form=arguments,
        actions=ACTION_LABELS,
        errors=errors,
        zone=str(get_timezone()),
    ), (400 if errors else 200)


def _clean(value: str) -> str:
    """A filter as typed, without control characters (a NUL byte is no error in a filter)."""
    return "".join(character for character in value if character.isprintable())[:254].strip()


def _day(value: str, days_after: int = 0) -> datetime | None:
    """The start of the day ``value`` (YYYY-MM-DD), or of the one ``days_after`` it, in the
    site's zone, as UTC; None when blank. Raises ``ValueError`` (or ``OverflowError``, past
    the year 9999) when it is not a date."""
    if not value:
        return None
    day = date.fromisoformat(value) + timedelta(days=days_after)
    return datetime.combine(day, time(), tzinfo=ZoneInfo(str(get_timezone()))).astimezone(UTC)

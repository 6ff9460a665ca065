"""Unsubscribe links: GET asks to confirm, POST acts (also RFC 8058 one-click from mail apps)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from service.db import utc_now
from service.extensions import csrf
from service.mail import service
from service.mail.models import MessageKind
from service.security import no_store

bp = Blueprint("mail", __name__)


@bp.get("/unsubscribe/<token>")
@no_store
def unsubscribe(token: str) -> str:
    email, kind = _read_or_404(token)
    return render_template("mail/unsubscribe.html", token=token, email=email, kind=kind, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail apps post here with no form of ours (RFC 8058); the signed token authorises
@no_store
def confirm_unsubscribe(token: str) -> str:
    email, kind = _read_or_404(token)
    service.unsubscribe(email, kind, utc_now())
    return render_template("mail/unsubscribe.html", token=token, email=email, kind=kind, done=True)


def _read_or_404(token: str) -> tuple[str, MessageKind]:
    found = service.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    return found

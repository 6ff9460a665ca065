"""Unsubscribe links: GET asks to confirm, POST acts (also RFC 8058 one-click from mail apps).
A link holds a keyed hash of the address, never the address, so the pages cannot name it."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from service.db import utc_now
from service.extensions import csrf
from service.mail import service
from service.security import no_store

bp = Blueprint("mail", __name__)


@bp.get("/unsubscribe/<token>")
@no_store
def unsubscribe(token: str) -> str:
    target = _read_or_404(token)
    return render_template("unsubscribe.html", token=token, target=target, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail apps post here with no form of ours (RFC 8058); the signed token authorises
@no_store
def confirm_unsubscribe(token: str) -> str:
    target = _read_or_404(token)
    service.unsubscribe(target.hashed_address, target.kind, utc_now(), target.event_id)
    return render_template("unsubscribe.html", token=token, target=target, done=True)


def _read_or_404(token: str) -> service.UnsubscribeRequest:
    found = service.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    return found

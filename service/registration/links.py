"""A registration's personal links: the manage page (``/r/<token>``) and the joining link
(``/j/<token>``), each signed for its own purpose, and what the joining link opens."""

from __future__ import annotations

import enum
import hmac
from datetime import datetime, timedelta

from flask import current_app

from service.db import unit_of_work
from service.events.models import Event, EventStatus
from service.extensions import db
from service.registration.models import JoinClick, Registration
from service.security import read_id_link, sign_link
from service.urls import absolute_url

MANAGE, JOIN = "manage", "join"


def manage_url(registration: Registration) -> str:
    token = sign_link(MANAGE, [registration.id, registration.link_secret])
    return absolute_url("registration.manage", token=token)


def join_url(registration: Registration) -> str:
    return join_link(registration.id, registration.link_secret)


def join_link(registration_id: int, link_secret: str) -> str:
    """The personal joining link: opens the meeting only for this confirmed registration."""
    return absolute_url("registration.join", token=sign_link(JOIN, [registration_id, link_secret]))


def linked_registration(
    purpose: str, token: str, *, max_age: int | None = None
) -> Registration | None:
    """The registration a signed ``[id, secret]`` link of ``purpose`` names; None if forged,
    older than ``max_age`` seconds, or revoked (the registration gone or given a new secret).
    Each kind of link then says how long it lasts and for whom."""
    linked = read_id_link(purpose, token, max_age=max_age)
    if linked is None:
        return None
    registration_id, secret = linked
    registration = db.session.get(Registration, registration_id)
    if registration is None or not hmac.compare_digest(
        secret.encode(), registration.link_secret.encode()
    ):
        return None
    return registration


def registration_from_link(purpose: str, token: str, now: datetime) -> Registration | None:
    """The registration a manage or join link belongs to; None if forged, revoked or expired."""
    registration = linked_registration(purpose, token)
    if registration is None:
        return None
    expires = registration.event.ends_at + timedelta(
        days=int(current_app.config["MANAGE_LINK_DAYS"])
    )
    return registration if now < expires else None


class JoinDecision(enum.StrEnum):
    ENTER = "enter"
    TOO_EARLY = "too_early"
    ENDED = "ended"
    NOT_CONFIRMED = "not_confirmed"
    NO_MEETING = "no_meeting"  # not an online event, or no joining link yet
    IN_THE_ROOM = "in_the_room"  # a hybrid event's registrant with a place in the room


def use_join_link(registration: Registration, now: datetime) -> JoinDecision:
    """Decide whether the personal link opens the meeting now; each entry is recorded."""
    decision = _join_decision(registration, now)
    if decision is JoinDecision.ENTER:
        registration_id = registration.id
        with unit_of_work(lock_wait=current_app.config["LOCK_WAIT_SECONDS"]):
            db.session.add(JoinClick(registration_id=registration_id, clicked_at=now))
    return decision


def join_window(event: Event) -> tuple[datetime, datetime]:
    """When the personal joining link opens the meeting: [opens, ends)."""
    opens = event.starts_at - timedelta(minutes=int(current_app.config["JOIN_OPENS_MINUTES"]))
    return opens, event.ends_at


def _join_decision(registration: Registration, now: datetime) -> JoinDecision:
    event = registration.event
    if not registration.is_confirmed or event.status is not EventStatus.PUBLISHED:
        return JoinDecision.NOT_CONFIRMED
    if not (event.is_online and event.join_url):
        return JoinDecision.NO_MEETING
    if not registration.takes_part_online:
        return JoinDecision.IN_THE_ROOM
    opens, ends = join_window(event)
    if now >= ends:
        return JoinDecision.ENDED
    if now < opens:
        return JoinDecision.TOO_EARLY
    return JoinDecision.ENTER

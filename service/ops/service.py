"""The scheduler's heartbeat, what the site observed, and the health /healthz reports."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from service.db import conflict_insert, unit_of_work
from service.extensions import db
from service.ops.models import Observation, SchedulerHeartbeat

log = logging.getLogger(__name__)

# A process not seen for this long is gone: its row is deleted by the next heartbeat.
HEARTBEAT_KEPT = timedelta(days=7)
UNTRUSTED_FORWARDED_FOR = "untrusted_forwarded_for"


def this_process() -> str:
    """The id a scheduler process beats under: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def record_heartbeat(process: str, started_at: datetime, now: datetime) -> None:
    """Say that ``process`` is alive at ``now`` (insert or update its row), and forget
    processes silent for a week."""
    with unit_of_work():
        db.session.execute(
            conflict_insert(db.session, SchedulerHeartbeat)
            .values(process=process, started_at=started_at, last_seen_at=now)
            .on_conflict_do_update(index_elements=["process"], set_={"last_seen_at": now})
        )
        db.session.execute(
            delete(SchedulerHeartbeat).where(SchedulerHeartbeat.last_seen_at < now - HEARTBEAT_KEPT)
        )


def last_heartbeat() -> datetime | None:
    """When any scheduler last said it was alive."""
    return db.session.scalar(select(func.max(SchedulerHeartbeat.last_seen_at)))


def heartbeat_age(now: datetime) -> timedelta | None:
    seen = last_heartbeat()
    return None if seen is None else max(now - seen, timedelta(0))


def scheduler_is_late(age: timedelta | None) -> bool:
    """No heartbeat at all, or none for ``SCHEDULER_HEARTBEAT_MAX_AGE`` seconds."""
    limit = timedelta(seconds=int(current_app.config["SCHEDULER_HEARTBEAT_MAX_AGE"]))
    return age is None or age > limit


def record_observation(name: str, now: datetime) -> None:
    with unit_of_work():
        db.session.execute(
            conflict_insert(db.session, Observation)
            .values(name=name, last_seen_at=now)
            .on_conflict_do_update(index_elements=["name"], set_={"last_seen_at": now})
        )


def last_observed(name: str) -> datetime | None:
    return db.session.scalar(select(Observation.last_seen_at).where(Observation.name == name))


@dataclass(frozen=True)
class Health:
    database: bool
    heartbeat_age: timedelta | None  # None: no scheduler ever beat (or no database)
    scheduler_late: bool

    @property
    def healthy(self) -> bool:
        return self.database and not self.scheduler_late


def check_health(now: datetime) -> Health:
    """The database answers, and a scheduler beat recently (/healthz)."""
    try:
        db.session.execute(text("SELECT 1"))
        age = heartbeat_age(now)
    except SQLAlchemyError:
        return Health(database=False, heartbeat_age=None, scheduler_late=True)
    finally:
        db.session.rollback()  # end the read: a health check holds nothing
    return Health(database=True, heartbeat_age=age, scheduler_late=scheduler_is_late(age))

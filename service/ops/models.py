"""What the running site records about itself, for /healthz and ``flask doctor``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base


class SchedulerHeartbeat(Base):
    """One row per scheduler process (``flask scheduler run``, or in-process), upserted every
    ``SCHEDULER_HEARTBEAT_SECONDS``."""

    __tablename__ = "scheduler_heartbeats"

    process: Mapped[str] = mapped_column(String(255), primary_key=True)  # "host:pid"
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Observation(Base):
    """When the site last saw something an operator should know about (by name), e.g. a
    request carrying X-Forwarded-For while no proxy is trusted. Only a time: no address."""

    __tablename__ = "ops_observations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen_at: Mapped[datetime]

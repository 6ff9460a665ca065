"""Build and start schedulers: in the web process (make run) or as their own process."""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from werkzeug.serving import is_running_from_reloader

from service.db import utc_now
from service.ops.service import this_process
from service.scheduler import jobs


def add_jobs(
    scheduler: BackgroundScheduler, app: Flask, now: datetime, stopping: threading.Event
) -> None:
    """Beat at start and every half minute; sweep reminders, and queue follow-ups, at start
    and every minute; dispatch at start and every few seconds; remove personal data past its
    retention period at start and every night."""
    common = {"args": [app], "max_instances": 1, "coalesce": True, "next_run_time": now}
    scheduler.add_job(
        jobs.heartbeat,
        "interval",
        seconds=app.config["SCHEDULER_HEARTBEAT_SECONDS"],
        id="heartbeat",
        kwargs={"process": this_process(), "started_at": now},
        **common,
    )
    scheduler.add_job(
        jobs.sweep, "interval", seconds=app.config["SCHEDULER_SWEEP_SECONDS"], id="sweep", **common
    )
    scheduler.add_job(
        jobs.send_follow_ups,
        "interval",
        seconds=app.config["SCHEDULER_SWEEP_SECONDS"],
        id="follow_ups",
        **common,
    )
    scheduler.add_job(
        jobs.dispatch,
        "interval",
        seconds=app.config["SCHEDULER_DISPATCH_SECONDS"],
        id="dispatch",
        kwargs={"stopping": stopping},
        **common,
    )
    scheduler.add_job(jobs.remove_old_personal_data, "interval", hours=24, id="retention", **common)


def start_in_process(app: Flask) -> BackgroundScheduler | None:
    """Start a background scheduler when SCHEDULER_ENABLED, once per serving process.

    Under the debug reloader only the child that serves starts it, not the watching parent.
    """
    if not app.config["SCHEDULER_ENABLED"] or "scheduler" in app.extensions:
        return None
    if app.debug and not is_running_from_reloader():
        return None
    scheduler = BackgroundScheduler(timezone="UTC")
    stopping = threading.Event()
    add_jobs(scheduler, app, utc_now(), stopping)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    atexit.register(stop, scheduler, stopping)
    return scheduler


def run_until(app: Flask, stop_requested: Callable[[], bool], poll_seconds: float = 0.2) -> None:
    """Run the scheduler in this process until ``stop_requested()`` (``flask scheduler run``).

    ``stop_requested`` is polled, so a signal handler need only set a flag: taking a lock
    inside a handler (``Event.set``) can deadlock the thread it interrupted.
    """
    scheduler = BackgroundScheduler(timezone="UTC")
    stopping = threading.Event()
    add_jobs(scheduler, app, utc_now(), stopping)
    scheduler.start()
    try:
        while not stop_requested():
            time.sleep(poll_seconds)
    finally:
        stop(scheduler, stopping)


def stop(scheduler: BackgroundScheduler, stopping: threading.Event) -> None:
    """Start no more jobs and wait for those running: a dispatch pass finishes the message it
    is sending and releases the rest of its batch (``dispatch_due``)."""
    stopping.set()
    if scheduler.running:
        scheduler.shutdown(wait=True)

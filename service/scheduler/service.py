"""Build and start schedulers: in the web process (make run) or as their own process."""

from __future__ import annotations

import atexit
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from werkzeug.serving import is_running_from_reloader

from service.db import utc_now
from service.scheduler import jobs


def add_jobs(scheduler: BaseScheduler, app: Flask, now: datetime) -> None:
    """Sweep at start and every minute; dispatch at start and every few seconds; remove
    personal data past its retention period at start and every night."""
    common = {"args": [app], "max_instances": 1, "coalesce": True, "next_run_time": now}
    scheduler.add_job(
        jobs.sweep, "interval", seconds=app.config["SCHEDULER_SWEEP_SECONDS"], id="sweep", **common
    )
    scheduler.add_job(
        jobs.dispatch,
        "interval",
        seconds=app.config["SCHEDULER_DISPATCH_SECONDS"],
        id="dispatch",
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
    add_jobs(scheduler, app, utc_now())
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    atexit.register(lambda: scheduler.running and scheduler.shutdown(wait=False))
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the scheduler in this process until interrupted (``flask scheduler run``)."""
    scheduler = BlockingScheduler(timezone="UTC")
    add_jobs(scheduler, app, utc_now())
    try:
        scheduler.start()
    finally:  # Ctrl+C: start no more jobs; a message in flight is safe under its lease
        if scheduler.running:
            scheduler.shutdown(wait=False)

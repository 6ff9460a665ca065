"""The jobs: each opens an app context and calls one service function with the app's clock."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import Flask

from service.audit.service import purge_older_than
from service.db import utc_now
from service.followups.service import send_due as send_due_follow_ups
from service.mail.service import dispatch_due
from service.media.service import forget_unused_images
from service.ops.service import record_heartbeat
from service.registration.retention import apply_retention
from service.reminders.service import sweep_reminders
from service.statements.service import purge_unconfirmed

log = logging.getLogger(__name__)


def heartbeat(app: Flask, process: str, started_at: datetime) -> None:
    with app.app_context():
        record_heartbeat(process, started_at, utc_now())


def sweep(app: Flask) -> None:
    with app.app_context():
        queued = sweep_reminders(utc_now())
        if queued:
            log.info("queued %d reminder(s)", queued)


def send_follow_ups(app: Flask) -> None:
    with app.app_context():
        queued = send_due_follow_ups(utc_now())
        if queued:
            log.info("queued %d follow-up message(s)", queued)


def dispatch(app: Flask, stopping: threading.Event) -> None:
    with app.app_context():
        result = dispatch_due(utc_now(), stopping=stopping)
        if result.attempted or result.unsubscribed:
            log.info(
                "mail: sent %d, retrying %d, failed %d, not sent (unsubscribed) %d",
                result.sent,
                result.retrying,
                result.failed,
                result.unsubscribed,
            )


def remove_old_personal_data(app: Flask) -> None:
    with app.app_context():
        for event in apply_retention(utc_now()):
            log.info("removed attendees' personal data of %s", event.slug)
        purged = purge_unconfirmed(utc_now())
        if purged:
            log.info("deleted %d signature(s) never confirmed", purged)
        forgotten = purge_older_than(int(app.config["AUDIT_RETENTION_DAYS"]), utc_now())
        if forgotten:
            log.info("deleted %d audit entry(ies) past their retention period", forgotten)
        unused = forget_unused_images(utc_now())
        if unused:
            log.info("deleted %d image(s) nothing uses", unused)

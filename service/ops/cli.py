"""``flask doctor``: check what a live site needs."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from service.db import utc_now
from service.ops import doctor

MARKS = {doctor.OK: "ok  ", doctor.WARN: "warn", doctor.FAIL: "FAIL"}


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check secrets, links, database, mail, DKIM, Redis, rate limits, scheduler and proxies.

    One line per check with the fix; exits 1 when any check fails (warnings exit 0).
    """
    checks = doctor.run_checks(utc_now())
    width = max(len(check.name) for check in checks)
    for check in checks:
        click.echo(f"{MARKS[check.status]}  {check.name.ljust(width)}  {check.detail}")
        if check.fix and check.status != doctor.OK:
            click.echo(f"      {' ' * width}  fix: {check.fix}")
    failed = sum(check.status == doctor.FAIL for check in checks)
    warned = sum(check.status == doctor.WARN for check in checks)
    click.echo(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    if failed:
        raise SystemExit(1)

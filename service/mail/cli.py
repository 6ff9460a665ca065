"""``flask mail send-due|status|retry-failed|dkim-keygen``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from service.db import utc_now
from service.mail import compose, service, signing

mail_cli = AppGroup("mail", help="The outbox: send what is due, see how it went.")


@mail_cli.command("send-due")
def send_due_command() -> None:
    """Send every message that is due (one pass of the dispatcher)."""
    result = service.dispatch_due(utc_now())
    click.echo(
        f"sent {result.sent}, retrying later {result.retrying}, failed {result.failed}, "
        f"not sent (unsubscribed) {result.unsubscribed}"
    )
    for error in result.errors:
        click.echo(f"  {error}", err=True)


@mail_cli.command("status")
def status_command() -> None:
    """Messages by status and kind, and the latest failures with the relay's reply."""
    status = service.mail_status()
    if not status.counts:
        click.echo("the outbox is empty")
    for (state, kind), total in sorted(status.counts.items()):
        click.echo(f"{state:8} {kind:18} {total}")
    if status.recent_failures:
        click.echo("\nrecent failures:")
    for message in status.recent_failures:
        click.echo(
            f"  {message.recipient} [{message.kind}] after {message.attempts} attempt(s): "
            f"{message.last_error}"
        )


@mail_cli.command("retry-failed")
def retry_failed_command() -> None:
    """Queue every failed message again, with fresh attempts (not those to people who
    unsubscribed)."""
    click.echo(f"{service.retry_failed(utc_now())} message(s) queued again")


@mail_cli.command("dkim-keygen")
@click.option("--selector", help="the key's name in DNS (default: DKIM_SELECTOR), e.g. 2027")
@click.option("--domain", help="the signing domain (default: DKIM_DOMAIN, else the sender's)")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where to write the private key (default: instance/dkim/SELECTOR.private.pem)",
)
def dkim_keygen_command(selector: str | None, domain: str | None, output: Path | None) -> None:
    """Write a new 2048-bit RSA key pair for DKIM and print the DNS record to publish."""
    config = current_app.config
    selector = selector or str(config["DKIM_SELECTOR"] or "")  # 2027 from the env is a number
    if not selector:
        raise click.UsageError("give --selector (or set DKIM_SELECTOR), e.g. --selector 2027")
    domain = domain or config["DKIM_DOMAIN"] or compose.sender_domain()
    output = output or Path(current_app.instance_path) / "dkim" / f"{selector}.private.pem"
    try:
        private_key = signing.write_key_pair(output)
    except FileExistsError:
        raise click.ClickException(
            f"{output} exists: a key in use is never replaced. Choose a new --selector "
            "(publish its record, then switch DKIM_SELECTOR) or another --output."
        ) from None
    record = signing.dns_record(private_key, selector, domain)
    click.echo(f"wrote the private key to {output} (mode 0600)")
    click.echo("\npublish this DNS TXT record:")
    click.echo(f"  name:  {record.name}")
    click.echo(f"  value: {record.value}")
    click.echo(f"\nin a zone file:\n  {record.zone_file_line()}")
    click.echo(
        "\nthen set, for the scheduler:\n"
        f"  CONVOCA_DKIM_DOMAIN={domain}\n"
        f"  CONVOCA_DKIM_SELECTOR={selector}\n"
        f"  CONVOCA_DKIM_PRIVATE_KEY_PATH={output.resolve()}"
    )

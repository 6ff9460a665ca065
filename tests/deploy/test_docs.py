"""Every command docs/deploy.md tells an operator to type is run by the suite: the
``convoca-flask`` ones here, as written, the rest by the test named for it below."""

from __future__ import annotations

import importlib
import re
import shlex

from tests.deploy.conftest import write_env_file
from tests.deploy.test_scripts import convoca_flask
from tests.server import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "deploy.md"
RUN_BY = {
    "/opt/convoca/deploy/install.sh": (
        "tests.deploy.test_systemd",
        "test_install_lays_out_the_files_and_keeps_what_was_changed",
    ),
    "sudo -u postgres /opt/convoca/deploy/postgres-setup.sh": (
        "tests.deploy.test_scripts",
        "test_postgres_setup_makes_a_role_that_owns_its_database_and_nothing_more",
    ),
    "nginx -t": ("tests.deploy.test_proxies", "test_the_nginx_site_passes_nginx_t"),
    "caddy validate --config /etc/caddy/Caddyfile --adapter caddyfile": (
        "tests.deploy.test_proxies",
        "test_the_caddyfile_validates",
    ),
    "pg_restore --clean --if-exists --no-owner --dbname=convoca": (
        "tests.deploy.test_scripts",
        "test_a_pg_dump_backup_restores_with_the_docs_pg_restore_line",
    ),
}
# systemd starts no services on the test machines; systemd-analyze checks the units instead.
NOT_RUNNABLE_HERE = ("systemctl ",)


def documented_commands() -> list[str]:
    blocks = re.findall(r"^ *```console\n(.*?)^ *```", DOC.read_text(), re.DOTALL | re.MULTILINE)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_every_documented_command_is_run_by_a_test():
    commands = documented_commands()
    assert len(commands) >= 10
    for command in commands:
        if command.startswith(("convoca-flask ", *NOT_RUNNABLE_HERE)):
            continue
        runner = next((RUN_BY[key] for key in RUN_BY if command.startswith(key)), None)
        assert runner, f"docs/deploy.md runs {command!r}, which no test runs"
        module, test = runner
        assert hasattr(importlib.import_module(module), test), f"{module}.{test} is gone"


def test_the_documented_convoca_flask_commands_run_as_written(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o750)
    backups = tmp_path / "backups"
    backups.mkdir()
    env_file = write_env_file(
        tmp_path / "convoca.env",
        f"sqlite:///{instance / 'convoca.sqlite'}",
        instance,
        CONVOCA_DKIM_PRIVATE_KEY_PATH=str(instance / "dkim" / "2027.private.pem"),
    )
    last_backup = None
    commands = [
        command for command in documented_commands() if command.startswith("convoca-flask ")
    ]
    assert len(commands) >= 4
    for command in commands:
        command = command.replace("/var/backups/convoca", str(backups))
        if last_backup:  # the docs' example name stands for the backup just written
            command = re.sub(r"\S+/convoca-\d{8}-\d{6}\.sqlite", last_backup, command)
        result = convoca_flask(env_file, *shlex.split(command)[1:])
        if written := re.search(r"^wrote (\S+\.sqlite)$", result.stdout, re.MULTILINE):
            last_backup = written.group(1)
    assert last_backup, "the docs no longer take a backup"

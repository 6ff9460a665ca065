"""deploy/install.sh lays Convoca out, and the systemd units it installs verify cleanly and
are hardened, checked by ``systemd-analyze`` in that root (systemd runs no services on this
machine, so that is as far as a test can go)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, read_env_file, require_tool, run

UNITS = sorted(path.name for path in (DEPLOY / "systemd").iterdir())
SERVICES = [name for name in UNITS if name.endswith(".service")]
UNIT_FOLDERS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
SYSTEM_UNITS = next((path for path in UNIT_FOLDERS if path.is_dir()), None)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """/ as deploy/install.sh lays it out (DESTDIR), with the code in /opt/convoca (its
    programs stand-ins: the venv is the one step install.sh leaves to the real machine)."""
    require_tool("systemd-analyze")
    if SYSTEM_UNITS is None:
        pytest.skip("no systemd unit folder on this machine")
    root = tmp_path_factory.mktemp("root")
    run([str(DEPLOY / "install.sh")], env={**os.environ, "DESTDIR": str(root)})
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    shutil.copytree(DEPLOY, root / "opt/convoca/deploy")
    programs = root / "opt/convoca/.venv/bin"
    programs.mkdir(parents=True)
    for name in ("gunicorn", "flask"):
        (programs / name).write_text("#!/bin/sh\n")
        (programs / name).chmod(0o755)
    (root / "bin").mkdir()
    shutil.copy(shutil.which("kill"), root / "bin/kill")
    return root


def test_install_lays_out_the_files_and_keeps_what_was_changed(root):
    env_file = root / "etc/convoca/convoca.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o640  # it holds the secret key
    secret = read_env_file(env_file)["CONVOCA_SECRET_KEY"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    for folder in ("var/lib/convoca", "var/backups/convoca", "etc/convoca"):
        assert stat.S_IMODE((root / folder).stat().st_mode) == 0o750
    assert sorted(path.name for path in (root / "etc/systemd/system").iterdir()) == UNITS
    assert os.access(root / "usr/local/bin/convoca-flask", os.X_OK)
    site = root / "etc/nginx/sites-available/convoca"
    assert site.read_text() == (DEPLOY / "nginx/convoca.conf").read_text()

    site.write_text(site.read_text() + "# the operator's own line\n")
    result = run([str(DEPLOY / "install.sh")], env={**os.environ, "DESTDIR": str(root)})
    assert f"kept your {site}" in result.stdout
    assert site.read_text().endswith("# the operator's own line\n")
    assert (site.with_name("convoca.new")).read_text() == (
        DEPLOY / "nginx/convoca.conf"
    ).read_text()
    assert read_env_file(env_file)["CONVOCA_SECRET_KEY"] == secret  # never replaced
    site.with_name("convoca.new").unlink()


def analyze(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args, f"--root={root}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=root,
    )


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_verifies_without_a_warning(root, unit):
    result = analyze(root, "verify", f"/etc/systemd/system/{unit}")
    # systemd-analyze exits 0 on unknown keys and bad values: it only warns. None is allowed.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_a_mistake_in_a_unit_is_reported(root):
    broken = root / "etc/systemd/system/convoca-broken.service"
    broken.write_text(
        (DEPLOY / "systemd/convoca-web.service")
        .read_text()
        .replace("ProtectSystem=strict", "ProtectSystm=strict")
    )
    try:
        result = analyze(root, "verify", "/etc/systemd/system/convoca-broken.service")
    finally:
        broken.unlink()
    assert "Unknown key 'ProtectSystm'" in result.stdout + result.stderr


@pytest.mark.parametrize("unit", SERVICES)
def test_each_service_is_hardened(root, unit):
    result = analyze(
        root, "security", "--offline=yes", "--threshold=20", f"/etc/systemd/system/{unit}"
    )
    exposure = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert exposure, result.stdout + result.stderr
    assert float(exposure.group(1)) <= 2.0  # systemd calls up to 4.9 "OK"; 9.6 is a bare unit
    assert result.returncode == 0


def test_the_services_run_what_the_docs_say():
    web = (DEPLOY / "systemd/convoca-web.service").read_text()
    scheduler = (DEPLOY / "systemd/convoca-scheduler@.service").read_text()
    backup = (DEPLOY / "systemd/convoca-backup.service").read_text()
    for unit in (web, scheduler, backup):
        assert "EnvironmentFile=/etc/convoca/convoca.env" in unit
        assert "ProtectSystem=strict" in unit and "NoNewPrivileges=yes" in unit
        assert "ReadWritePaths=/var/lib/convoca" in unit and "PrivateTmp=yes" in unit
    assert "gunicorn --config /opt/convoca/deploy/gunicorn.conf.py wsgi:app" in web
    assert "ExecStart=/opt/convoca/.venv/bin/flask scheduler run" in scheduler
    assert "KillSignal=SIGTERM" in scheduler and "TimeoutStopSec=" in scheduler
    assert "ExecStart=/opt/convoca/deploy/backup.sh" in backup

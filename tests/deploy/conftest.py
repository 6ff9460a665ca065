"""What the deploy tests share: the files in deploy/, the tools that check them, and
/etc/convoca/convoca.env as the example has it, pointed at this test's database and folders."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.server import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def require_tool(name: str) -> str:
    """The tool's path; missing, the test is skipped here and fails under CI (``make test``
    installs nginx and caddy when it runs as root or under CI)."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required under CI (make deploy-tools installs it)")
    pytest.skip(f"{name} is not installed (make deploy-tools)")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments, single quotes)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _equals, value = line.partition("=")
            values[key.strip()] = " ".join(shlex.split(value)) if value else ""
    return values


def write_env_file(path: Path, database_url: str, instance: Path, **changes: str) -> Path:
    """deploy/convoca.env with this test's secret, database and folders; ``changes`` replace
    (or, set to None, remove) lines by key. Redis keys get a prefix of their own."""
    prefix = f"convoca-deploy-test-{uuid.uuid4().hex[:8]}"
    replacements = {
        "CONVOCA_SECRET_KEY": "deploy-test-secret-key",
        "DATABASE_URL": database_url,
        "CONVOCA_INSTANCE_PATH": str(instance),
        "CONVOCA_DKIM_PRIVATE_KEY_PATH": str(instance / "dkim" / "2027.private.pem"),
        "CONVOCA_RATELIMIT_KEY_PREFIX": prefix,
        "CONVOCA_CACHE_KEY_PREFIX": prefix,
        **changes,
    }
    lines, seen = [], set()
    for line in (DEPLOY / "convoca.env").read_text().splitlines():
        key = line.partition("=")[0].strip()
        if key in replacements and not line.startswith("#"):
            seen.add(key)
            if replacements[key] is not None:
                lines.append(f"{key}={shlex.quote(replacements[key])}")
            continue
        lines.append(line)
    lines += [f"{key}={shlex.quote(value)}" for key, value in replacements.items()
              if key not in seen and value is not None]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``command``; its output is in the failure message when it fails."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=180, check=False, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited with {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result

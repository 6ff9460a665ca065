"""deploy/nginx/convoca.conf and deploy/Caddyfile: both pass their server's own check, and
nginx, with the site file as shipped (only ports, paths and the certificate swapped for this
machine's), serves the demo event page from gunicorn (deploy/gunicorn.conf.py, 2 workers,
the example env file) and the static files from the code, over TLS on loopback."""

from __future__ import annotations

import http.client
import os
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.demo import DEMO_EVENT_SLUG
from tests.deploy.conftest import DEPLOY, read_env_file, require_tool, run, write_env_file
from tests.mail.fixtures import free_port
from tests.server import (
    PROJECT_ROOT,
    _wait_until_serving,
    flask_command,
    gunicorn_options,
    run_flask,
    server_env,
)

HOST = "events.example.org"
STATIC = PROJECT_ROOT / "service" / "static"


def site_file(tmp_path: Path, http_port: int, https_port: int, upstream_port: int) -> Path:
    """The shipped site file with this machine's ports, paths and certificate."""
    certificate, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(certificate), "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST}"]
    )  # fmt: skip
    text = (DEPLOY / "nginx/convoca.conf").read_text()
    for shipped, here in (
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        (f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(certificate)),
        (f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key)),
        ("/opt/convoca/service/static/", f"{STATIC}/"),
        ("root /var/www/html;", f"root {tmp_path};"),
    ):
        assert shipped in text, f"the site file no longer has {shipped!r}"
        text = text.replace(shipped, here)
    site = tmp_path / "convoca.conf"
    site.write_text(text)
    return site


def nginx_config(tmp_path: Path, site: Path) -> Path:
    """A main nginx.conf like Debian's, everything it writes kept in ``tmp_path``."""
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp_path}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site};
}}
"""
    )
    return config


def nginx(config: Path, tmp_path: Path, *args: str) -> list[str]:
    return ["nginx", "-c", str(config), "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
            *args]  # fmt: skip


def test_the_nginx_site_passes_nginx_t(tmp_path):
    require_tool("nginx")
    config = nginx_config(tmp_path, site_file(tmp_path, free_port(), free_port(), free_port()))
    result = run(nginx(config, tmp_path, "-t"))
    assert "test is successful" in result.stderr


def test_a_broken_nginx_site_fails_nginx_t(tmp_path):
    require_tool("nginx")
    site = site_file(tmp_path, free_port(), free_port(), free_port())
    site.write_text(site.read_text().replace("client_max_body_size 1m;", "client_max_body 1m;"))
    result = subprocess.run(
        nginx(nginx_config(tmp_path, site), tmp_path, "-t"), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert 'unknown directive "client_max_body"' in result.stderr


def test_the_caddyfile_validates():
    require_tool("caddy")
    result = run(
        ["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"]
    )
    assert "Valid configuration" in result.stdout + result.stderr


def test_a_broken_caddyfile_fails_validation(tmp_path):
    require_tool("caddy")
    broken = tmp_path / "Caddyfile"
    broken.write_text((DEPLOY / "Caddyfile").read_text().replace("reverse_proxy", "revers_proxy"))
    result = subprocess.run(
        ["caddy", "validate", "--config", str(broken), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "revers_proxy" in result.stderr


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# What reached the app, one line a request: the proxy headers gunicorn received.
FORWARDED_LOG_FORMAT = (
    "%(U)s|%({x-forwarded-for}i)s|%({x-forwarded-proto}i)s|%({x-forwarded-host}i)s"
)


@pytest.fixture
def gunicorn_upstream(tmp_path) -> Iterator[tuple[int, Path]]:
    """gunicorn as convoca-web.service starts it (deploy/gunicorn.conf.py, the example env file
    with 2 workers) on the demo; yields its port and the log of what reached it."""
    instance = tmp_path / "instance"
    instance.mkdir()
    database = f"sqlite:///{instance / 'convoca.sqlite'}"
    upstream = free_port()
    env_file = write_env_file(
        tmp_path / "convoca.env",
        database,
        instance,
        GUNICORN_WORKERS="2",
        GUNICORN_BIND=f"127.0.0.1:{upstream}",
        CONVOCA_MAIL_SERVER=None,
        CONVOCA_DKIM_DOMAIN=None,
    )
    env = {**server_env(database, instance), **read_env_file(env_file)}
    run_flask(["db", "upgrade"], env)
    run_flask(["demo", "load"], env)
    received = tmp_path / "received.log"
    with (tmp_path / "gunicorn.log").open("wb") as log:
        web = subprocess.Popen(
            [*flask_command("gunicorn"), *gunicorn_options(), "--config",
             str(DEPLOY / "gunicorn.conf.py"), "--access-logfile", str(received),
             "--access-logformat", FORWARDED_LOG_FORMAT, "wsgi:app"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    try:
        _wait_until_serving(f"http://127.0.0.1:{upstream}/", web, tmp_path / "gunicorn.log")
        yield upstream, received
    finally:
        stop(web)
    workers = (tmp_path / "gunicorn.log").read_text()
    assert workers.count("Booting worker") == 2, workers


@pytest.fixture
def behind_nginx(tmp_path, gunicorn_upstream) -> Iterator[tuple[int, int, Path]]:
    """nginx with the shipped site in front; yields its http and https ports, and what
    reached gunicorn."""
    require_tool("nginx")
    upstream, received = gunicorn_upstream
    http_port, https_port = free_port(), free_port()
    config = nginx_config(tmp_path, site_file(tmp_path, http_port, https_port, upstream))
    run(nginx(config, tmp_path))  # it daemonises; its pid file says which process it is
    try:
        yield http_port, https_port, received
    finally:
        subprocess.run(nginx(config, tmp_path, "-s", "quit"), capture_output=True, check=False)
        for _ in range(100):
            if not (tmp_path / "nginx.pid").exists():
                break
            time.sleep(0.1)


@pytest.fixture
def behind_caddy(tmp_path, gunicorn_upstream) -> Iterator[tuple[int, int, Path]]:
    """Caddy with the shipped Caddyfile in front, its own local CA instead of ACME."""
    require_tool("caddy")
    upstream, received = gunicorn_upstream
    http_port, https_port = free_port(), free_port()
    text = (DEPLOY / "Caddyfile").read_text()
    for shipped, here in (
        ("email webmaster@example.org", "\n\t".join((
            "local_certs", "skip_install_trust", "admin off", f"default_sni {HOST}",
            f"http_port {http_port}", f"https_port {https_port}"))),
        ("root * /opt/convoca/service/static", f"root * {STATIC}"),
        ("reverse_proxy 127.0.0.1:8000", f"reverse_proxy 127.0.0.1:{upstream}"),
    ):  # fmt: skip
        assert shipped in text, f"the Caddyfile no longer has {shipped!r}"
        text = text.replace(shipped, here)
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(text)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}  # fmt: skip
    with (tmp_path / "caddy.log").open("wb") as log:
        caddy = subprocess.Popen(
            ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and caddy.poll() is None:
            try:
                if fetch(https_port, "/static/style.css", UNVERIFIED)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"caddy did not serve:\n{(tmp_path / 'caddy.log').read_text()}")
        yield http_port, https_port, received
    finally:
        stop(caddy)


def fetch(port: int, path: str, context: ssl.SSLContext | None, **request):
    """One request for ``path`` to ``HOST`` on a loopback port, over TLS with ``context``."""
    connection = (
        http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
        if context
        else http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    )
    try:
        connection.request(request.get("method", "GET"), path, body=request.get("body"),
                           headers={"Host": HOST, **request.get("headers", {})})  # fmt: skip
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


UNVERIFIED = ssl._create_unverified_context()  # Caddy's own local CA: not what we test


def check_the_site_through(
    https_port: int, context: ssl.SSLContext, received: Path, too_large: tuple[int, ...] = (413,)
) -> None:
    status, headers, body = fetch(
        https_port, f"/events/{DEMO_EVENT_SLUG}", context, headers={"X-Forwarded-For": "6.6.6.6"}
    )
    assert status == 200
    assert "Bolivia – People Power, Hope &amp; Solidarity" in body.decode()
    assert "Content-Security-Policy" in headers  # the app answered

    status, headers, body = fetch(https_port, "/static/style.css", context)
    assert status == 200
    assert body == (STATIC / "style.css").read_bytes()
    assert headers["Content-Type"].startswith("text/css")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in headers  # the proxy answered; no worker was asked

    # MAX_CONTENT_LENGTH is 1 MiB: the proxy refuses more before it reaches a worker.
    status, _headers, _body = fetch(
        https_port, f"/events/{DEMO_EVENT_SLUG}/register", context, method="POST",
        body=b"x" * 1_100_000,
    )  # fmt: skip
    assert status in too_large

    # What TRUSTED_PROXIES=1 reads: the client's address (what it claimed is dropped), the
    # scheme and host it asked for; and no static file or refused request reached the app.
    through_the_proxy = [
        line for line in received.read_text().splitlines() if not line.endswith("|-|-|-")
    ]  # fmt: skip (not our readiness probe)
    assert through_the_proxy == [f"/events/{DEMO_EVENT_SLUG}|127.0.0.1|https|{HOST}"]


def test_nginx_serves_the_event_page_from_gunicorn_and_static_files_itself(behind_nginx, tmp_path):
    http_port, https_port, received = behind_nginx
    context = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))
    context.check_hostname = False  # we connect to 127.0.0.1; the certificate names HOST

    status, headers, _body = fetch(http_port, f"/events/{DEMO_EVENT_SLUG}", None)
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/events/{DEMO_EVENT_SLUG}"
    check_the_site_through(https_port, context, received)


def test_caddy_serves_the_event_page_from_gunicorn_and_static_files_itself(behind_caddy):
    http_port, https_port, received = behind_caddy
    status, headers, _body = fetch(http_port, f"/events/{DEMO_EVENT_SLUG}", None)
    assert status in (301, 308)
    assert headers["Location"].startswith(f"https://{HOST}")
    # Caddy 2.6 (Debian 12's) cuts a body past max_size with 502, later ones answer 413.
    check_the_site_through(https_port, UNVERIFIED, received, too_large=(413, 502))

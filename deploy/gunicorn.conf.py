"""Gunicorn settings for deploy/systemd/convoca-web.service (``gunicorn -c`` this file).

Workers: ``GUNICORN_WORKERS`` in /etc/convoca/convoca.env, else 2 * CPU cores + 1, gunicorn's
own rule of thumb for sync workers. Each worker is a process with its own database pool.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # loopback: only the proxy reaches it
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
timeout = 30
graceful_timeout = 30  # SIGTERM: requests in flight get this long (TimeoutStopSec is above it)
errorlog = "-"  # to the journal: journalctl -u convoca-web
accesslog = None  # the proxy's access log has the same, once; ours would double what we hold

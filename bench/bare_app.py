"""Baseline for the load benchmarks: a bare Flask app with one route returning "hello".

Served by ``gunicorn -w 2 -k sync --chdir bench bare_app:app``. Running this file directly
(``make bench`` runs every ``bench/*.py``) does nothing.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"

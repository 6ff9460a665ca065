"""WSGI entry point: ``gunicorn wsgi:app`` (and ``flask run``, with FLASK_APP=wsgi).

The in-process scheduler starts only where CONVOCA_SCHEDULER_ENABLED=true (``make run`` sets it
for its server); production runs ``flask scheduler run`` as a process of its own.
"""

from service import create_app
from service.scheduler.service import start_in_process

app = create_app()
start_in_process(app)

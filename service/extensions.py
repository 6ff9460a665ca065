"""Extension objects, created unbound and attached to the app in ``create_app``."""

from flask import request
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from service.db import Base, render_migration_type

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_item=render_migration_type)
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    """Every limit here is on a form's POST (registering, signing, logging in), so a page
    view skips Flask-Limiter's per-request search for limits that cannot apply."""
    return request.method in ("GET", "HEAD", "OPTIONS")


cache = Cache()
login_manager = LoginManager()

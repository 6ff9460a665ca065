"""Extension objects, created unbound and attached to the app in ``create_app``."""

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
cache = Cache()
login_manager = LoginManager()

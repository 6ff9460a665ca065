"""Convoca: events, registrations and solidarity statements for campaign groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from service import config as app_config
from service.extensions import babel, cache, csrf, db, limiter, login_manager, migrate
from service.media.uploads import UploadRequest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults < instance/config.py < CONVOCA_* env < ``config``."""
    app = Flask(
        __name__,
        instance_path=app_config.instance_path(PROJECT_ROOT),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.request_class = UploadRequest
    app_config.load(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from service import i18n, models  # noqa: F401 - every table in the metadata

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    from service.organisers import auth

    auth.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)

    from service import errors, security
    from service.ops import proxies

    security.init_app(app)
    errors.init_app(app)
    proxies.init_app(app)


def register_blueprints(app: Flask) -> None:
    from service import i18n
    from service.access.team import bp as team_bp
    from service.audit.views import bp as audit_bp
    from service.events.api import bp as events_api_bp
    from service.events.copies import bp as event_copies_bp
    from service.events.manage import bp as manage_events_bp
    from service.events.speaker_manage import bp as manage_speakers_bp
    from service.events.speaker_views import bp as speakers_bp
    from service.events.views import bp as events_bp
    from service.followups.manage import bp as manage_followups_bp
    from service.mail.views import bp as mail_bp
    from service.media.manage import bp as manage_site_bp
    from service.media.views import bp as media_bp
    from service.ops.views import bp as ops_bp
    from service.organisers.second_factor import bp as second_factor_bp
    from service.organisers.views import bp as organisers_bp
    from service.organisers.welcome import bp as welcome_bp
    from service.registration.attendees import bp as attendees_bp
    from service.registration.door import bp as door_bp
    from service.registration.door import links as checkin_links_bp
    from service.registration.views import bp as registration_bp
    from service.statements.manage import bp as manage_statements_bp
    from service.statements.views import api as statements_api_bp
    from service.statements.views import bp as statements_bp

    app.register_blueprint(i18n.bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(events_api_bp)
    app.register_blueprint(speakers_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(statements_bp)
    app.register_blueprint(statements_api_bp)
    app.register_blueprint(organisers_bp)
    app.register_blueprint(second_factor_bp)
    app.register_blueprint(manage_events_bp)
    app.register_blueprint(event_copies_bp)
    app.register_blueprint(manage_speakers_bp)
    app.register_blueprint(attendees_bp)
    app.register_blueprint(manage_followups_bp)
    app.register_blueprint(door_bp)
    app.register_blueprint(checkin_links_bp)
    app.register_blueprint(manage_statements_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(welcome_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(manage_site_bp)


def register_commands(app: Flask) -> None:
    from service import cli

    cli.init_app(app)

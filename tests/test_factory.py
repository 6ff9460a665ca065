import pytest

from service import create_app
from service.config import ConfigError


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVOCA_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_secret_key_from_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CONVOCA_SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_configuration_order(monkeypatch, tmp_path):
    """Defaults < instance/config.py < CONVOCA_* variables < the config passed in."""
    (tmp_path / "config.py").write_text(
        'SECRET_KEY = "from-instance"\nSITE_NAME = "From instance"\nORGANISATION_NAME = "Inst"\n'
    )
    monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CONVOCA_ORGANISATION_NAME", "From env")
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example.org/convoca")
    app = create_app({"PUBLIC_URL": "https://events.example.org"})
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["SITE_NAME"] == "From instance"
    assert app.config["ORGANISATION_NAME"] == "From env"
    assert app.config["PUBLIC_URL"] == "https://events.example.org"
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == "postgresql+psycopg://someone@db.example.org/convoca"
    )


def test_default_database_is_sqlite_in_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CONVOCA_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'convoca.sqlite'}"

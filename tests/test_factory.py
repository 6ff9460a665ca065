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
    monkeypatch.setenv("CONVOCA_PUBLIC_URL", "https://events.example.org/")
    app = create_app()
    assert app.config["PUBLIC_URL"] == "https://events.example.org"
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
    app = create_app({"SECRET_KEY": "x", "PUBLIC_URL": "https://events.example.org"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'convoca.sqlite'}"


@pytest.fixture
def production(monkeypatch, tmp_path):
    """A site started as gunicorn starts it: no debug, no tests, a secret key."""
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    for name in ("CONVOCA_PUBLIC_URL", "CONVOCA_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONVOCA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CONVOCA_SECRET_KEY", "from-the-environment")
    return monkeypatch


def test_production_without_public_url_refuses_to_start(production):
    with pytest.raises(ConfigError, match=r"PUBLIC_URL is not set.*CONVOCA_PUBLIC_URL"):
        create_app()


@pytest.mark.parametrize("url", ["events.example.org", "ftp://events.example.org", "https://"])
def test_a_public_url_that_is_not_an_address_refuses_to_start(production, url):
    production.setenv("CONVOCA_PUBLIC_URL", url)
    with pytest.raises(ConfigError, match="PUBLIC_URL must be the site's absolute address"):
        create_app()


def test_debug_without_public_url_links_to_the_local_server(production):
    production.setenv("FLASK_DEBUG", "1")
    assert create_app().config["PUBLIC_URL"] == "http://127.0.0.1:5000"


@pytest.mark.parametrize("value", ["-1", "two", "true"])
def test_trusted_proxies_must_be_a_count(production, value):
    production.setenv("CONVOCA_PUBLIC_URL", "https://events.example.org")
    production.setenv("CONVOCA_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be the number of proxies"):
        create_app()


def test_fast_password_hashing_is_refused_outside_tests(production):
    production.setenv("CONVOCA_PUBLIC_URL", "https://events.example.org")
    production.setenv("CONVOCA_TEST_FAST_PASSWORD_HASHING", "true")
    with pytest.raises(ConfigError, match=r"TEST_FAST_PASSWORD_HASHING .* for the tests alone"):
        create_app()

"""The organisers' accounts and login of the organisers' area tests, for the audit tests."""

from tests.organisers.conftest import admin, app_config, make_organiser, organiser  # noqa: F401

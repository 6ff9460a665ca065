import pytest

from tests.mail.fixtures import smtp_config


@pytest.fixture
def app_config(smtp):
    return {**smtp_config(smtp), "RATELIMIT_ENABLED": False}

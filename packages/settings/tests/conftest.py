from __future__ import annotations

import pytest

from openmodule.config import settings

ENV_KEYS = [
    "TESTING",
    "DEBUG",
    "VERSION",
    "AUTH_RESOURCE",
    "DEVICE_HOST",
    "COMPUTE_ID",
    "CONFIG_YAML",
    "DIST_FOLDER",
    "DATABASE_FOLDER",
    "LOG_LEVEL",
    "BROKER_PUB",
    "BROKER_SUB",
    "BROKER_HOST",
    "BROKER_PUB_PORT",
    "BROKER_SUB_PORT",
    "LOCALE_DIR",
    "SETTINGS_MODULE",
    "NAME",
    "LANGUAGE",
    "REDIS_PASSWORD",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Each test starts from an environment without openmodule variables, in an empty folder."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    settings.reset()
    yield
    settings.reset()

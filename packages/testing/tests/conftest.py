from __future__ import annotations

import os
import types

import pytest

from openmodule.config import settings

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def test_config(**extra):
    values = dict(
        NAME="om_testing_service_1",
        RESOURCE="test-resource",
        VERSION="1.0.0",
        DEBUG=False,
        TESTING=True,
        LOG_LEVEL=10,
    )
    values.update(extra)
    return types.SimpleNamespace(**values)


@pytest.fixture(autouse=True)
def configured_settings(om_clean_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("TESTING", "1")
    settings.configure(test_config(DATABASE_FOLDER=str(tmp_path / "test")))


@pytest.fixture
def om_alembic_path():
    return os.path.join(FIXTURES, "service_db")

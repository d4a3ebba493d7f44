"""Test set-up of the gate service: settings for TESTING, and gate.py importable."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from openmodule.config import settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the service folder: `import gate`


@pytest.fixture(autouse=True)
def configured_settings(monkeypatch, tmp_path):
    """Fixtures and mixins read settings: configure them before, forget them after every test."""
    monkeypatch.setenv("TESTING", "1")
    settings.reset()
    settings.configure(
        types.SimpleNamespace(
            NAME="gate",
            RESOURCE="test-device",
            VERSION="1.0.0",
            DEBUG=False,
            TESTING=True,
            DATABASE_FOLDER=str(tmp_path),
        )
    )
    yield
    settings.reset()

"""is_testing / is_debug / is_development: the one answer to "is this a test (debug) run?"."""

from __future__ import annotations

import sys
import types

import pytest

from openmodule import config
from openmodule.config import override_context, settings


def _module(name: str, **values: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in values.items():
        setattr(module, key, value)
    return module


def test_the_settings_module_decides_over_the_environment(monkeypatch):
    monkeypatch.setenv("TESTING", "1")
    monkeypatch.setenv("DEBUG", "1")
    settings.configure(_module("svc_config", TESTING=False, DEBUG=False))
    assert config.is_testing() is False
    assert config.is_debug() is False
    assert config.is_development() is False


def test_overrides_are_seen():
    settings.configure(_module("svc_config", TESTING=False, DEBUG=False))
    with override_context(TESTING=True):
        assert config.is_testing() is True
        assert config.is_development() is True
    assert config.is_testing() is False
    with override_context(DEBUG=True):
        assert config.is_debug() is True
        assert config.is_development() is True


def test_without_a_settings_module_the_environment_decides(monkeypatch):
    monkeypatch.setenv("SETTINGS_MODULE", "no_such_settings_module_xyz")
    monkeypatch.delitem(sys.modules, "no_such_settings_module_xyz", raising=False)
    with pytest.raises(config.SettingsModuleNotFound):
        settings.NAME  # noqa: B018
    assert config.is_testing() is False
    monkeypatch.setenv("TESTING", "yes")
    assert config.is_testing() is True
    assert config.is_debug() is False  # testing() and no DEBUG: not a debug run
    monkeypatch.setenv("DEBUG", "1")
    assert config.is_debug() is True


def test_a_given_config_object_decides():
    settings.configure(_module("svc_config", TESTING=True, DEBUG=True))
    production = _module("prod_config", TESTING=False, DEBUG=False)
    assert config.is_testing(production) is False
    assert config.is_debug(production) is False
    assert config.is_development(production) is False
    assert config.is_development(_module("dbg", TESTING=False, DEBUG=True)) is True
    assert config.is_testing(_module("tst", TESTING=True, DEBUG=False)) is True


def test_a_config_without_the_setting_is_neither(monkeypatch):
    monkeypatch.setenv("TESTING", "1")
    assert config.is_testing(object()) is False
    assert config.is_development(object()) is False

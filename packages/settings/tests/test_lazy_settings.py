from __future__ import annotations

import sys
import types
import unittest

import pytest

from openmodule import config
from openmodule.config import GlobalSettings, LazySettings, override_context, override_settings, settings


def make_module(name: str = "svc_config", **values) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in values.items():
        setattr(module, key, value)
    return module


def test_global_settings_readme_fields(monkeypatch):
    monkeypatch.setenv("REDIS_PORT", "6380")
    monkeypatch.setenv("NAME", "svc")
    for name in [
        "NAME",
        "VERSION",
        "RESOURCE",
        "DEBUG",
        "TESTING",
        "LOG_LEVEL",
        "DATABASE_FOLDER",
        "BROKER_SUB",
        "BROKER_PUB",
        "LOCAL_DEVELOPMENT",
        "DIST_FOLDER",
        "DEV_DEVICE",
        "REDIS_HOST",
        "REDIS_PASSWORD",
        "REDIS_PORT",
        "REDIS_DB",
        "COMPUTE_ID",
        "DATABOX_UPLOAD_DIR",
        "TIMEZONE",
    ]:
        assert hasattr(GlobalSettings, name), name
    assert GlobalSettings.REDIS_PORT == 6380
    assert GlobalSettings.NAME == "svc"
    assert GlobalSettings.REDIS_PASSWORD is None
    with pytest.raises(AttributeError):
        GlobalSettings.NOT_A_SETTING  # noqa: B018


def test_configure_module_wins_over_globals():
    settings.configure(make_module(NAME="from-module", CUSTOM=5, lower="ignored"))
    assert settings.NAME == "from-module"
    assert settings.CUSTOM == 5
    assert settings.BROKER_PUB == "tcp://127.0.0.1:10200"
    assert not hasattr(settings, "lower")
    assert repr(settings) == '<LazySettings "svc_config">'
    with pytest.raises(AssertionError):
        settings.configure(make_module())


def test_repr_before_setup():
    assert repr(LazySettings()) == "<LazySettings [Unevaluated]>"


def test_settings_module_env_is_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, "my_svc_settings", make_module("my_svc_settings", NAME="imported"))
    monkeypatch.setenv("SETTINGS_MODULE", "my_svc_settings")
    assert settings.NAME == "imported"


def test_missing_settings_module_names_it(monkeypatch):
    monkeypatch.setenv("SETTINGS_MODULE", "no_such_settings_module_xyz")
    with pytest.raises(config.SettingsModuleNotFound) as info:
        settings.NAME  # noqa: B018
    assert "no_such_settings_module_xyz" in str(info.value)


def test_error_inside_settings_module_is_not_masked(monkeypatch, tmp_path):
    (tmp_path / "broken_settings_mod.py").write_text("import no_such_dependency_abc\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SETTINGS_MODULE", "broken_settings_mod")
    with pytest.raises(ModuleNotFoundError) as info:
        settings.NAME  # noqa: B018
    assert info.value.name == "no_such_dependency_abc"


def test_missing_setting_raises_attribute_error():
    settings.configure(make_module())
    with pytest.raises(AttributeError):
        settings.DOES_NOT_EXIST  # noqa: B018


def test_assignment_and_delete_invalidate_cache():
    settings.configure(make_module(X=1))
    assert settings.X == 1
    settings.X = 2
    assert settings.X == 2
    del settings.X
    with pytest.raises(AttributeError):
        settings.X  # noqa: B018


def test_override_after_setup_stack():
    settings.configure(make_module(X=1))
    settings.override(X=2)
    assert settings.X == 2 and settings.is_overridden("X")
    settings.override(X=3)
    assert settings.X == 3
    settings.clear_override(X=None)
    assert settings.X == 2 and settings.is_overridden("X")
    settings.clear_override(X=None)
    assert settings.X == 1 and not settings.is_overridden("X")
    settings.clear_override(X=None)  # idempotent
    assert settings.X == 1


def test_wrapped_settings_answer_is_overridden_too():
    settings.configure(make_module(X=1))
    assert not settings._wrapped.is_overridden("X")
    with override_context(X=2):
        assert settings._wrapped.is_overridden("X") and settings.is_overridden("X")
    assert not settings._wrapped.is_overridden("X") and not settings.is_overridden("X")


def test_configure_twice_or_on_a_second_object_is_refused():
    settings.configure(make_module(X=1))
    with pytest.raises(AssertionError, match="Settings are already configured: call settings.reset"):
        settings.configure(make_module(X=2))
    other = LazySettings()
    with pytest.raises(AssertionError, match="Do not use multiple settings objects"):
        other.configure(make_module(X=3))
    assert settings.X == 1


def test_override_before_setup_is_applied_and_restored():
    settings.override(NAME="early", NEW_ONE=7)
    settings.configure(make_module(NAME="base"))
    assert settings.NAME == "early"
    assert settings.NEW_ONE == 7  # not lost although absent from the base
    settings.clear_override(NAME=None, NEW_ONE=None)
    assert settings.NAME == "base"
    assert not hasattr(settings, "NEW_ONE")
    settings.clear_override(NEW_ONE=None)  # no AttributeError


def test_override_of_new_name_after_setup_is_removed_on_clear():
    settings.configure(make_module())
    with override_context(BRAND_NEW=1):
        assert settings.BRAND_NEW == 1
    assert not hasattr(settings, "BRAND_NEW")


def test_override_context_restores_on_exception():
    settings.configure(make_module(X=1))
    with pytest.raises(RuntimeError):
        with override_context(X=2):
            assert settings.X == 2
            raise RuntimeError("boom")
    assert settings.X == 1


def test_override_context_nesting():
    settings.configure(make_module(X=1))
    with override_context(X=2):
        with override_context(X=3):
            assert settings.X == 3
        assert settings.X == 2
    assert settings.X == 1


def test_override_settings_function_returns_value_and_restores():
    settings.configure(make_module(X=1))

    @override_settings(X=5)
    def inner(arg):
        return settings.X + arg

    assert inner(1) == 6
    assert settings.X == 1


def test_override_settings_function_restores_on_exception():
    settings.configure(make_module(X=1))

    @override_settings(X=5)
    def failing():
        raise ValueError(settings.X)

    with pytest.raises(ValueError, match="5"):
        failing()
    assert settings.X == 1


def test_override_settings_nested_decorators():
    settings.configure(make_module(X=1))

    @override_settings(X=2)
    def outer():
        before = settings.X
        inner_value = inner()
        return before, inner_value, settings.X

    @override_settings(X=3)
    def inner():
        return settings.X

    assert outer() == (2, 3, 2)
    assert settings.X == 1


def test_override_settings_on_testcase_covers_setup_and_teardown():
    settings.configure(make_module(X=1))
    seen = []

    @override_settings(X=9)
    class Case(unittest.TestCase):
        def setUp(self):
            seen.append(("setUp", settings.X))

        def test_it(self):
            seen.append(("test", settings.X))

        def tearDown(self):
            seen.append(("tearDown", settings.X))

    result = unittest.TestResult()
    Case("test_it").run(result)
    assert result.wasSuccessful()
    assert seen == [("setUp", 9), ("test", 9), ("tearDown", 9)]
    assert settings.X == 1


def test_override_settings_rejects_non_callables():
    with pytest.raises(TypeError):
        override_settings(X=1)(42)


def test_reset_drops_overrides():
    settings.configure(make_module(X=1))
    settings.override(X=2)
    settings.reset()
    settings.configure(make_module(X=1))
    assert settings.X == 1 and not settings.is_overridden("X")


def test_environment_read_at_setup_not_import(monkeypatch):
    monkeypatch.setenv("NAME", "late-env")
    settings.configure(make_module())
    assert settings.NAME == "late-env"


def test_validate_config_module():
    config.validate_config_module(make_module(NAME="a", RESOURCE="r", VERSION="1", DEBUG=False, TESTING=True))
    with pytest.raises(AssertionError) as info:
        config.validate_config_module(make_module(NAME="a", VERSION="1", DEBUG=False))
    assert "RESOURCE" in str(info.value) and "TESTING" in str(info.value)
    with pytest.warns(DeprecationWarning, match="BROKER_PUB_PORT"):
        config.validate_config_module(
            make_module(NAME="a", RESOURCE="r", VERSION="1", DEBUG=False, TESTING=True, BROKER_PUB_PORT=1)
        )

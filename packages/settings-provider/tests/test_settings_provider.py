from __future__ import annotations

import logging
import threading

import pytest
from pydantic import ValidationError
from settings_models.settings.common import Gate, GateType
from settings_models.settings.gate_control import GateMode

from openmodule.messaging import NoRunningCore
from openmodule.models.settings import SettingsChangedMessage
from openmodule.utils.settings import SettingsProvider

GATES = {"g1": {"gate": "g1", "name": "Entry", "type": "entry"}}


@pytest.fixture
def provider(bus):
    bus.server.values = {
        ("common/gates", ""): GATES,
        ("common/currency", ""): "EUR",
        ("gate_control/mode", "g1"): "automatic",
        ("gate_control/mode", "g2"): "standard",
        ("my/flag", ""): True,
    }
    return SettingsProvider(rpc_timeout=5)


def test_get_parses_with_the_settings_models(bus, provider):
    assert provider.get("common/gates") == {"g1": Gate(gate="g1", name="Entry", type=GateType.entry)}
    assert provider.get("gate_control/mode", "g1") is GateMode.automatic
    assert provider.get("gate_control/mode", "g2") is GateMode.standard
    assert provider.get("my/flag", custom_type=bool) is True
    assert bus.server.calls == [
        ("get", ["common/gates"], ""),
        ("get", ["gate_control/mode"], "g1"),
        ("get", ["gate_control/mode"], "g2"),
        ("get", ["my/flag"], ""),
    ]


def test_missing_and_failing_settings(bus, provider, caplog):
    with caplog.at_level(logging.ERROR, logger="openmodule.utils.settings"):
        assert provider.get("common/garage_name") is None  # not set: quiet
    assert caplog.text == ""
    bus.server.answers["common/gates"] = {"success": False, "error": "database locked"}
    with caplog.at_level(logging.ERROR, logger="openmodule.utils.settings"):
        assert provider.get("common/gates") is None
    assert "Settings RPC for key common/gates/ failed because of error database locked" in caplog.text


def test_unknown_keys_need_a_type_and_wrong_values_raise(bus, provider):
    with pytest.raises(KeyError, match="No model for setting my/flag found"):
        provider.get("my/flag")
    bus.server.values[("common/currency", "")] = "euro"
    with pytest.raises(ValueError, match="3 uppercase letters"):
        provider.get("common/currency")
    bus.server.values[("common/gates", "")] = ["not", "a", "dict"]
    with pytest.raises(ValidationError):
        provider.get("common/gates")


def test_rpc_errors_raise(bus, provider):
    bus.server.fail_with = RuntimeError("settings service broken")
    with pytest.raises(bus.client.ServerHandlerError, match="settings service broken"):
        provider.get("common/gates")
    with pytest.raises(bus.client.ServerHandlerError):
        provider.get_many({"common/gates": None})


def test_an_answer_that_does_not_validate_is_a_clear_error(bus, provider):
    bus.server.answers["common/gates"] = {"value": GATES, "success": "maybe"}
    with pytest.raises(bus.client.ValidationError, match="success"):
        provider.get("common/gates")
    assert provider._cached_values == {}


def test_cache_and_changed_messages(bus, provider):
    assert provider.get("common/gates")["g1"].name == "Entry"
    assert provider.get("gate_control/mode", "g1") is GateMode.automatic
    bus.server.values[("common/gates", "")] = {"g1": {"gate": "g1", "name": "Renamed", "type": "entry"}}
    bus.server.values[("gate_control/mode", "g1")] = "permanent_open"
    assert provider.get("common/gates")["g1"].name == "Entry"  # cached
    calls = len(bus.server.calls)

    bus.publish(SettingsChangedMessage(changed_keys=["common/gates/"]))
    assert provider.get("common/gates")["g1"].name == "Renamed"
    assert provider.get("gate_control/mode", "g1") is GateMode.automatic  # not named: still cached
    assert len(bus.server.calls) == calls + 1


def test_cache_expires(bus, provider, monkeypatch):
    import openmodule.utils.settings._provider as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "time", lambda: now[0])
    assert provider.get("common/currency") == "EUR"
    bus.server.values[("common/currency", "")] = "CHF"
    now[0] += 299
    assert provider.get("common/currency") == "EUR"
    now[0] += 2
    assert provider.get("common/currency") == "CHF"


def test_a_cached_value_that_does_not_parse_with_the_asked_type_is_fetched_again(bus, provider):
    assert provider.get("common/gates") is not None
    bus.server.values[("common/gates", "")] = [GATES["g1"]]
    assert provider.get("common/gates", custom_type=list[Gate]) == [
        Gate(gate="g1", name="Entry", type="entry")
    ]


def test_get_many(bus, provider, caplog):
    bus.server.answers["common/language"] = {"success": False, "error": "backend down"}
    with caplog.at_level(logging.ERROR, logger="openmodule.utils.settings"):
        values = provider.get_many(
            {
                "common/currency": None,
                "common/gates": None,
                "common/language": None,
                "my/flag": bool,
                "nope": str,
            }
        )
    assert values == {
        "common/currency": "EUR",
        "common/gates": {"g1": Gate(gate="g1", name="Entry", type=GateType.entry)},
        "common/language": None,
        "my/flag": True,
        "nope": None,
    }
    assert "Failed to get setting common/language/ because of error backend down" in caplog.text
    assert "nope" not in caplog.text  # not set: quiet
    assert bus.server.calls == [
        ("get_many", ["common/currency", "common/gates", "common/language", "my/flag", "nope"], "")
    ]


def test_get_many_uses_the_cache_only_when_every_key_is_cached(bus, provider):
    provider.get_many({"gate_control/mode": None, "my/flag": bool}, "g1")
    bus.server.values[("gate_control/mode", "g1")] = "permanent_open"
    assert provider.get_many({"gate_control/mode": None}, "g1") == {"gate_control/mode": GateMode.automatic}
    assert len(bus.server.calls) == 1
    provider.settings_changed(SettingsChangedMessage(changed_keys=["gate_control/mode/g1"]))
    provider.get_many({"gate_control/mode": None, "my/flag": bool}, "g1")
    assert bus.server.calls[-1] == ("get_many", ["gate_control/mode", "my/flag"], "g1")  # all keys again


def test_get_many_entries_that_do_not_validate_are_logged_counted_and_none(bus, provider, caplog):
    bus.server.answers["common/currency"] = {"value": "EUR", "success": {"no": "bool"}}
    bus.server.values[("common/gates", "")] = ["wrong"]
    with caplog.at_level(logging.ERROR):
        values = provider.get_many({"common/currency": None, "common/gates": None, "my/flag": bool})
    assert values == {"common/currency": None, "common/gates": None, "my/flag": True}
    assert provider.drops.counts == {"invalid_entry": 1, "unparsable_value": 1}
    assert "common/currency/" in caplog.text and "common/gates/" in caplog.text


def test_get_many_answer_without_a_requested_key(bus, provider):
    bus.server.answers["common/currency"] = None  # the server leaves the key out (answered as null)
    values = provider.get_many({"common/currency": None, "my/flag": bool})
    assert values == {"common/currency": None, "my/flag": True}
    assert provider.drops.counts["missing_entry"] == 1


def test_concurrent_readers_share_the_cache(bus, provider):
    results, errors = [], []

    def read():
        try:
            for _ in range(20):
                results.append(provider.get("common/currency"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and results == ["EUR"] * 80
    assert len(bus.server.calls) <= 4  # at most one fetch per thread before the value was cached


def test_needs_a_core_or_explicit_dependencies(bus):
    from openmodule.messaging import set_running_core

    set_running_core(None)
    with pytest.raises(NoRunningCore, match="SettingsProvider"):
        SettingsProvider()
    explicit = SettingsProvider(rpc_client=bus.client, dispatcher=bus.dispatcher)
    bus.server.values[("common/currency", "")] = "EUR"
    assert explicit.get("common/currency") == "EUR"
    explicit.shutdown()


@pytest.mark.parametrize("mode", ["TESTING", "DEBUG", "production"])
def test_the_settings_models_import_on_our_models_in_every_mode(mode: str) -> None:
    # arivo-settings-models builds its models on OpenModuleModel; some of its datetime fields lack the
    # naive-UTC validator. In TESTING/DEBUG that is a warning for an installed package, never an error.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("TESTING", "DEBUG")}
    if mode != "production":
        env[mode] = "true"
    code = (
        "import warnings; warnings.simplefilter('always')\n"
        "import settings_models.settings.common as common\n"
        "from openmodule.models.base import OpenModuleModel\n"
        "assert issubclass(common.Gate, OpenModuleModel)\n"
        "print(common.Gate(gate='g1', name='Entry', type='entry').gate)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "g1"

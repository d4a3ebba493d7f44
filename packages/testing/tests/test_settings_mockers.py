"""SettingsMocker on its own, SettingsRPCMocker on a real RPCServer answering a real SettingsProvider."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from settings_models.settings.common import Gate, GateType
from settings_models.settings.gate_control import GateMode

from openmodule.models.settings import SettingsChangedMessage
from openmodule.rpc import RPCServer
from openmodule.utils.settings import SettingsProvider
from openmodule_test.core import OpenModuleCoreTestMixin
from openmodule_test.rpc import RPCServerTestMixin
from openmodule_test.settings import SettingsMocker, SettingsRPCMocker

GATES = {"1": {"gate": "1", "name": "Exit", "type": "exit"}}


def test_settings_mocker_checks_what_it_is_given():
    with pytest.raises(AssertionError, match="Unknown setting my/thing"):
        SettingsMocker({("my/thing", ""): 1})
    with pytest.raises(ValidationError):
        SettingsMocker({("common/garage_name", ""): {"parkinglot_name": "x"}})
    mocker = SettingsMocker(
        {("my/thing", ""): 1, ("common/garage_name", ""): {"parkinglot_name": "x"}},
        allow_unknown_settings=True,
        allow_wrong_values=True,
    )
    assert mocker.get("my/thing") is None  # no model and no type: None, like an unparsable value
    assert mocker.get("my/thing", custom_type=int) == 1
    assert mocker.get("common/garage_name") is None
    with pytest.raises(AssertionError, match="Unknown setting other/thing"):
        SettingsMocker({}).add_setting(2, "other/thing")


def test_settings_mocker_get_and_change():
    mocker = SettingsMocker(
        {("common/currency", ""): "EUR", ("common/gates", ""): GATES, ("gate_control/mode", "1"): "automatic"}
    )
    assert mocker.get("common/gates") == {"1": Gate(gate="1", name="Exit", type=GateType.exit)}
    assert (
        mocker.get("gate_control/mode") is None and mocker.get("gate_control/mode", "1") is GateMode.automatic
    )
    mocker.change_setting("CHF", "common/currency")
    mocker.remove_setting("common/gates")
    mocker.add_setting("en", "common/language")
    assert mocker.get_many({"common/currency": None, "common/gates": None, "common/language": None}) == {
        "common/currency": "CHF",
        "common/gates": None,
        "common/language": "en",
    }
    mocker.exception = RuntimeError("down")
    with pytest.raises(RuntimeError, match="down"):
        mocker.get("common/currency")
    with pytest.raises(RuntimeError, match="down"):
        mocker.get_many({"common/currency": None})


class SettingsRPCMockerTest(OpenModuleCoreTestMixin, RPCServerTestMixin):
    rpc_channels = ["settings"]

    def setUp(self):
        super().setUp()
        self.server = RPCServer(self.zmq_context())
        self.mocker = SettingsRPCMocker(
            self.server,
            {("common/currency", ""): "EUR", ("common/gates", ""): GATES, ("my/flag", "x"): True},
            allow_unknown_settings=True,
        )
        self.server.run_as_thread()
        self.addCleanup(self.server.shutdown)
        self.wait_for_rpc_server(self.server)
        self.provider = SettingsProvider(rpc_timeout=0.5)

    def test_modes(self):
        assert self.provider.get("common/gates") == {"1": Gate(gate="1", name="Exit", type=GateType.exit)}
        assert self.provider.get("my/flag", "x", custom_type=bool) is True
        assert self.provider.get("common/garage_name") is None
        self.mocker.result_mode = SettingsRPCMocker.ResultMode.fail
        assert self.provider.get("common/currency") is None
        self.mocker.result_mode = SettingsRPCMocker.ResultMode.error
        with pytest.raises(self.core.rpc_client.ServerHandlerError):
            self.provider.get("common/currency")
        self.mocker.result_mode = SettingsRPCMocker.ResultMode.timeout
        with pytest.raises(TimeoutError):
            self.provider.get("common/currency")

    def test_first_fail_and_error_code(self):
        self.mocker.result_mode = SettingsRPCMocker.ResultMode.first_fail
        self.mocker.error_code = "broken"
        with self.assertLogs("openmodule.utils.settings") as logs:
            values = self.provider.get_many({"common/currency": None, "common/gates": None})
        assert values["common/currency"] is None and values["common/gates"]["1"].name == "Exit"
        assert "Failed to get setting common/currency/ because of error broken" in str(logs.output)

    def test_changed_message_through_the_core(self):
        assert self.provider.get("common/currency") == "EUR"
        self.mocker.settings[("common/currency", "")] = "CHF"
        assert self.provider.get("common/currency") == "EUR"
        self.core.messages.dispatch("settings", SettingsChangedMessage(changed_keys=["common/currency/"]))
        assert self.provider.get("common/currency") == "CHF"


def test_unknown_setting_message_is_exactly_the_key():
    with pytest.raises(AssertionError) as caught:
        SettingsMocker({("setting/test", ""): "x"})
    assert str(caught.value) == "Unknown setting setting/test"

"""IoSimulator against the real IoListener, and TestGate on a real core, both through a real broker."""

from __future__ import annotations

import pytest

from openmodule.models.base import Direction, Gateway, ZMQMessage
from openmodule.utils.io import IoListener
from openmodule_test.core import OpenModuleCoreTestMixin
from openmodule_test.eventlistener import MockEvent
from openmodule_test.gate import TestGate
from openmodule_test.io_simulator import IoSimulator, generate_example_states
from openmodule_test.utils import DeveloperError


def test_example_states():
    states = generate_example_states(8)
    assert list(states) == [
        "gate_0_button",
        "gate_0_cloop",
        "gate_0_ploop",
        "gate_0_gate",
        "gate_1_button",
        "gate_1_cloop",
        "gate_1_ploop",
        "gate_1_gate",
    ]
    assert [s.type for s in states.values()][:4] == ["input", "input", "input", "output"]
    assert states["gate_0_gate"].gateway == Gateway(gate="gate_0", direction="in")
    assert states["gate_1_gate"].gateway == Gateway(gate="gate_1", direction="out")
    assert all(s.value == 0 and s.physical == 0 and not s.inverted for s in states.values())


def test_simulator_messages():
    sent = []
    sim = IoSimulator(generate_example_states(4), emit=sent.append)
    assert [(m.pin, m.edge) for m in sent] == [
        ("gate_0_button", 1),
        ("gate_0_cloop", 1),
        ("gate_0_ploop", 1),
        ("gate_0_gate", 1),
    ]
    sent.clear()
    sim.set_pin_high("gate_0_button")
    sim.set_pin_high("gate_0_button")
    sim.change_pin_sate("gate_0_button")
    sim.emit_current_pin_state("gate_0_button")
    assert [(m.value, m.edge, m.physical) for m in sent] == [(1, 1, 1), (1, 0, 1), (0, 1, 0), (0, 0, 0)]
    sent.clear()
    # custom messages: the given fields, the rest from the state; the edge follows the value by default
    sim.emit_custom_io_message("gate_0_cloop", inverted=True)
    sim.emit_custom_io_message("gate_0_cloop", value=1, edge=0)
    assert [(m.value, m.inverted, m.physical, m.edge) for m in sent] == [(0, True, 1, 0), (1, True, 0, 0)]
    assert sim.get_pin_states()["gate_0_cloop"].value == 1
    with pytest.raises(KeyError, match="no pin"):
        sim.set_pin_high("nope")


class IoSimulatorWithListenerTest(OpenModuleCoreTestMixin):
    def setUp(self):
        super().setUp()
        self.io = IoListener(self.core.messages)
        self.wait_for_dispatcher(self.core.messages)
        self.settled = MockEvent()
        self.io.add_listener_edge_any(Gateway(gate="gate_0"), self.settled)
        self.io.add_listener_edge_any(Gateway(gate="gate_1"), self.settled)
        self.sim = IoSimulator(generate_example_states(8), emit=lambda m: self.zmq_client.send("io", m))
        self.settled.wait_for_call(minimum_call_count=8)

    def test_listener_sees_the_simulated_pins(self):
        assert self.io.pins == list(self.sim.get_pin_states())
        rising = MockEvent()
        self.io.add_listener_edge_rising("gate_1_cloop", rising)
        self.sim.set_pin_high("gate_1_cloop")
        rising.wait_for_call()
        state = rising.call_args.args[0]
        assert (state.pin, state.value, state.gateway.gate) == ("gate_1_cloop", 1, "gate_1")
        assert self.io.get_pin_state("gate_1_cloop").value == 1
        assert [s.value for s in self.io.get_gateway_states(Gateway(gate="gate_1"))] == [0, 1, 0, 0]


class AccessMessage(ZMQMessage):
    type: str = "access"
    gateway: Gateway


class TestGateTest(OpenModuleCoreTestMixin):
    topics = ["healthpong", "access_accept", "access_reject"]

    def setUp(self):
        super().setUp()
        self.gate1 = TestGate("gate1", Direction.IN, self.core.messages)
        self.gate2 = TestGate("gate2", Direction.OUT, self.core.messages)
        self.wait_for_dispatcher(self.core.messages)

    def send(self, topic, gate, direction="in"):
        self.core.publish(AccessMessage(gateway=Gateway(gate=gate, direction=direction)), topic)

    def test_open_counts_for_its_gate_only_whatever_the_direction(self):
        self.send("access_accept", "gate1", direction="out")
        self.gate1.wait_for_open()
        assert self.gate1.open_count == 1 and self.gate2.open_count == 0
        self.gate1.assert_opened()
        with pytest.raises(TimeoutError):
            self.gate2.wait_for_open(timeout=0.2)

    def test_reject_followed_by_an_open_fails_the_reject_assertion(self):
        self.send("access_reject", "gate1")
        self.send("access_accept", "gate1")
        with pytest.raises(AssertionError, match="then opened"):
            self.gate1.wait_for_reject(timeout=5)
        with pytest.raises(AssertionError):
            self.gate1.assert_rejected()
        self.gate1.assert_opened()

    def test_reject(self):
        self.send("access_reject", "gate2")
        self.gate2.wait_for_reject(timeout=0.4)
        self.gate2.assert_rejected()
        with pytest.raises(AssertionError):
            self.gate1.assert_rejected()
        with pytest.raises(AssertionError):
            self.gate1.assert_opened()

    def test_second_wait_needs_a_reset(self):
        self.send("access_accept", "gate1")
        self.gate1.wait_for_open()
        with pytest.raises(DeveloperError, match=r"reset_counts\(\)"):
            self.gate1.wait_for_open()
        TestGate.reset_all_counts()
        assert self.gate1.open_count == 0
        self.send("access_accept", "gate1")
        self.gate1.wait_for_open()

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from openmodule.dispatcher import MessageDispatcher
from openmodule.models.base import Gateway
from openmodule.models.io import IoMessage, IoState
from openmodule.utils.io import IoListener

GATE_1 = Gateway(gate="gate_1", direction="in")
GATE_2 = Gateway(gate="gate_2", direction="out")


def io(pin: str, value: int, edge: int = 0, gateway: Gateway = GATE_1, **extra: Any) -> dict[str, Any]:
    """A raw IO message as an IO service sends it."""
    return {
        "timestamp": 1700000000.0,
        "name": "om_io_1",
        "type": extra.pop("type", "input"),
        "gateway": gateway.model_dump(),
        "pin": pin,
        "value": value,
        "edge": edge,
        **extra,
    }


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, state: IoState) -> None:
        self.calls.append((state.pin, state.value))


def test_edges_are_told_apart(bus):
    listener = IoListener(bus.dispatcher)
    rising, falling, any_edge, no_edge = Recorder(), Recorder(), Recorder(), Recorder()
    listener.add_listener_edge_rising("button", rising)
    listener.add_listener_edge_falling("button", falling)
    listener.add_listener_edge_any("button", any_edge)
    listener.add_listener_edge_none("button", no_edge)

    bus.send(io("button", 0, edge=1))  # first message: an edge (to 0)
    bus.send(io("button", 0, edge=0))  # repeated state
    bus.send(io("button", 1, edge=1))  # rising
    bus.send(io("button", 0, edge=1))  # falling

    assert rising.calls == [("button", 1)]
    assert falling.calls == [("button", 0), ("button", 0)]
    assert any_edge.calls == [("button", 0), ("button", 1), ("button", 0)]
    assert no_edge.calls == [("button", 0)]


def test_a_change_without_edge_flag_still_counts_as_an_edge(bus):
    listener = IoListener(bus.dispatcher)
    bus.send(io("loop", 0, edge=1))
    rising, no_edge = Recorder(), Recorder()
    listener.add_listener_edge_rising("loop", rising)
    listener.add_listener_edge_none("loop", no_edge)
    # the message with edge=1 was lost; the next one reports the new value as a plain refresh
    bus.send(io("loop", 1, edge=0))
    assert rising.calls == [("loop", 1)]
    assert no_edge.calls == []
    # so does a change of inversion
    any_edge = Recorder()
    listener.add_listener_edge_any("loop", any_edge)
    bus.send(io("loop", 1, edge=0, inverted=True))
    assert any_edge.calls == [("loop", 1)]


def test_gateway_listeners_match_the_gate_only_and_io_type_filters(bus):
    listener = IoListener(bus.dispatcher)
    by_gate, outputs = Recorder(), Recorder()
    listener.add_listener_edge_any(Gateway(gate="gate_1", direction="out"), by_gate)
    listener.add_listener_edge_any(Gateway(gate="gate_1"), outputs, io_type="output")
    bus.send(
        io("g1_button", 1, edge=1),
        io("g1_gate", 1, edge=1, type="output"),
        io("g2_button", 1, edge=1, gateway=GATE_2),
    )
    assert by_gate.calls == [("g1_button", 1), ("g1_gate", 1)]
    assert outputs.calls == [("g1_gate", 1)]


def test_state_queries(bus):
    listener = IoListener(bus.dispatcher)
    bus.send(io("b", 1, edge=1), io("a", 0, edge=1, inverted=True), io("other", 1, gateway=GATE_2))

    state = listener.get_pin_state("b")
    assert (state.pin, state.value, state.physical, state.gateway) == ("b", 1, 1, GATE_1)
    assert state.last_timestamp == datetime(2023, 11, 14, 22, 13, 20)
    # physical is derived from value and inversion only when the sender did not send it
    assert listener.get_pin_state("a").physical == 1
    bus.send(io("a", 0, inverted=True, physical=0))
    assert listener.get_pin_state("a").physical == 0

    assert [s.pin for s in listener.get_gateway_states(GATE_1)] == ["b", "a"]
    assert listener.is_pin_valid("b") and listener.is_gateway_valid(Gateway(gate="gate_2"))
    assert listener.pins == ["b", "a", "other"]


def test_never_reported_pins_and_gates_have_the_default_state(bus):
    listener = IoListener(bus.dispatcher)
    assert not listener.is_pin_valid("nope")
    assert not listener.is_gateway_valid(Gateway(gate="nope"))
    default = listener.get_pin_state("nope")
    assert default == IoState()
    assert (default.pin, default.value, default.physical, default.inverted) == ("", 0, 0, False)
    assert default.gateway == Gateway(gate="", direction="")
    assert default.last_timestamp == datetime(1970, 1, 1)
    assert listener.get_gateway_states(Gateway(gate="nope")) == [IoState()]


def test_validity_expires(bus):
    listener = IoListener(bus.dispatcher)
    bus.send(io("b", 1))
    assert listener.is_pin_valid("b", timeout=60)
    assert not listener.is_pin_valid("b", timeout=0)
    assert not listener.is_gateway_valid(GATE_1, timeout=0)


def test_message_without_pin_is_logged_counted_and_dropped(bus, caplog):
    listener = IoListener(bus.dispatcher)
    seen = Recorder()
    listener.add_listener_edge_any(Gateway(gate="gate_1"), seen)
    with caplog.at_level(logging.ERROR):
        bus.send(io("", 1, edge=1), {k: v for k, v in io("x", 1).items() if k != "pin"}, io("ok", 1, edge=1))
    assert bus.dispatcher.drops.counts["validation_error"] == 2
    assert "pin" in caplog.text
    assert listener.pins == ["ok"]
    assert seen.calls == [("ok", 1)]


def test_failing_callback_is_logged_and_the_others_run(bus, caplog):
    listener = IoListener(bus.dispatcher)
    after = Recorder()

    def broken(state: IoState) -> None:
        raise RuntimeError("boom")

    listener.add_listener_edge_any("p", broken)
    listener.add_listener_edge_any("p", after)
    with caplog.at_level(logging.ERROR, logger="openmodule.utils.io"):
        bus.send(io("p", 1, edge=1))
    assert after.calls == [("p", 1)]
    assert "IO callback" in caplog.text and "boom" in caplog.text


def test_raise_handler_errors_lets_the_error_through():
    dispatcher = MessageDispatcher(raise_handler_errors=True, raise_validation_errors=True)
    listener = IoListener(dispatcher, raise_handler_errors=True)
    listener.add_listener_edge_any("p", lambda state: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        dispatcher.dispatch("io", io("p", 1, edge=1))


def test_listeners_are_per_instance_and_removable():
    dispatcher = MessageDispatcher()
    first, second = IoListener(dispatcher), IoListener(dispatcher)
    seen = Recorder()
    first.add_listener_edge_any("p", seen)
    dispatcher.dispatch("io", io("p", 1, edge=1))
    assert seen.calls == [("p", 1)]
    assert second.pins == ["p"]  # both saw it, each has its own state and listeners
    first.remove_listener(seen)
    dispatcher.dispatch("io", io("p", 0, edge=1))
    assert seen.calls == [("p", 1)]
    second.shutdown()
    dispatcher.dispatch("io", io("q", 0, edge=1))
    assert second.pins == ["p"] and first.pins == ["p", "q"]


def test_needs_a_single_threaded_dispatcher():
    with pytest.raises(AssertionError, match="single-threaded"):
        IoListener(MessageDispatcher(executor=ThreadPoolExecutor(max_workers=2)))


def test_bad_arguments_are_rejected():
    listener = IoListener(MessageDispatcher())
    with pytest.raises(TypeError, match="listen_to"):
        listener.add_listener_edge_any(3, print)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        listener.add_listener_edge_any("p", None)  # type: ignore[arg-type]


def test_io_message_wire_format():
    message = IoMessage(gateway=GATE_1, type="output", pin="g", value=1, edge=1, pin_number=3)
    wire = message.model_dump(by_alias=True, exclude_none=True)
    assert {k: wire[k] for k in ("type", "pin", "value", "edge", "inverted", "meta", "pin_number")} == {
        "type": "output",
        "pin": "g",
        "value": 1,
        "edge": 1,
        "inverted": False,
        "meta": {},
        "pin_number": 3,
    }
    assert wire["gateway"] == {"gate": "gate_1", "direction": "in"}

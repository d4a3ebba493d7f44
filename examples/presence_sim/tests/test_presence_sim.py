"""Tests of the presence simulator: the messages it builds, and main() publishing through a real broker to a
PresenceListener (the way the controller consumes them)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import presence_sim

from openmodule.models.presence import PresenceEnterMessage, PresenceLeaveMessage
from openmodule.utils.presence import PresenceListener
from openmodule_test.eventlistener import MockEvent


def test_every_third_vehicle_is_a_stranger():
    assert [presence_sim.plate_for(i) for i in range(5)] == [
        "GARIV01",
        "X 901 ZZ",
        "L777XV",
        "S-4711 K",
        "X 904 ZZ",
    ]


def test_enter_and_leave_share_the_vehicle():
    at = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    enter, leave = presence_sim.presence_messages(2, "gate_in", enter_time=at)
    assert isinstance(enter, PresenceEnterMessage) and isinstance(leave, PresenceLeaveMessage)
    assert enter.vehicle_id == leave.vehicle_id == int(at.timestamp() * 1e9) + 2
    wire = enter.dict(mode="json")  # the wire form: by alias, without None
    assert wire["type"] == "enter"
    assert wire["present-area-name"] == "gate_in-area"
    assert wire["gateway"] == {"gate": "gate_in", "direction": "in"}
    assert wire["medium"]["lpr"]["id"] == "L777XV"
    assert wire["medium"]["lpr"]["country"]["code"] == "A"
    assert leave.dict(mode="json")["type"] == "leave"


def test_main_publishes_enter_and_leave_per_vehicle(om_broker, om_client):
    om_client.subscribe("presence")
    presence_sim.main(["--vehicles", "2", "--dwell", "0", "--gap", "0"])
    seen = [om_client.wait_for_message_on_topic("presence", timeout=5) for _ in range(4)]
    assert [(m["type"], m["medium"]["lpr"]["id"]) for m in seen] == [
        ("enter", "GARIV01"),
        ("leave", "GARIV01"),
        ("enter", "X 901 ZZ"),
        ("leave", "X 901 ZZ"),
    ]


def test_a_presence_listener_sees_the_vehicles(om_core, om_client):
    listener = PresenceListener(om_core.messages)
    entered, left = MockEvent(), MockEvent()
    listener.on_enter.append(entered)
    listener.on_leave.append(left)
    # the listener's subscription must reach the broker before the simulator starts: probe with a leave of an
    # unknown vehicle (ignored by the listener) until the dispatcher has seen one
    seen = threading.Event()
    handle = om_core.messages.register_handler(
        "presence", PresenceLeaveMessage, lambda _m: seen.set(), register_schema=False
    )
    _enter, probe = presence_sim.presence_messages(99, "probe_gate")
    deadline = time.monotonic() + 10
    while not seen.wait(0.05):
        assert time.monotonic() < deadline, "the core never received a presence message"
        om_client.send("presence", probe)
    om_core.messages.unregister_handler(handle)
    for _event in presence_sim.simulate(om_core.publish, vehicles=2, gate="gate_in", dwell=0, gap=0):
        pass
    left.wait_for_call(timeout=5, minimum_call_count=2)
    assert entered.call_count == 2
    assert [call.args[0].lpr.id for call in entered.call_args_list] == ["GARIV01", "X 901 ZZ"]
    assert {call.args[1].gate for call in left.call_args_list} == {"gate_in"}

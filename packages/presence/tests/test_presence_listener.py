from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from openmodule.dispatcher import MessageDispatcher
from openmodule.models.presence import PresenceBaseData, PresenceRPCResponse
from openmodule.models.vehicle import Vehicle
from openmodule.utils.presence import PresenceListener


def test_enter_leave_forward(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher, gate="gate1")
    recorded = events(listener)
    bus.send(presence_msg("enter", 1))
    assert recorded == [("enter", 1, "gate1")]
    assert isinstance(listener.present_vehicle, Vehicle)
    assert str(listener.present_vehicle.lpr) == "lpr:[A]GARIVO1"
    bus.send(presence_msg("leave", 1), presence_msg("forward", 1))
    assert recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1"), ("forward", 1, "gate1")]
    assert listener.present_vehicle is None
    assert len(listener.waiting_for_forward_backward) == 0


def test_backward_before_leave_synthesizes_the_leave_once(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(presence_msg("enter", 1), presence_msg("backward", 1), presence_msg("leave", 1))
    assert recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1"), ("backward", 1, "gate1")]


def test_enter_while_present_leaves_the_old_vehicle_first(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(presence_msg("enter", 1), presence_msg("enter", 2, plate="W12345"), presence_msg("leave", 2))
    assert recorded == [
        ("enter", 1, "gate1"),
        ("leave", 1, "gate1"),
        ("enter", 2, "gate1"),
        ("leave", 2, "gate1"),
    ]


def test_gates_are_independent_and_fixed_gate_filters(bus, presence_msg, events):
    all_gates = PresenceListener(bus.dispatcher)
    only_2 = PresenceListener(bus.dispatcher, gate="gate2")
    rec_all, rec_2 = events(all_gates), events(only_2)
    bus.send(presence_msg("enter", 1, gate="gate1"), presence_msg("enter", 2, gate="gate2", plate="W1"))
    assert rec_all == [("enter", 1, "gate1"), ("enter", 2, "gate2")]
    assert rec_2 == [("enter", 2, "gate2")]
    assert {g: v.id % 10 for g, v in all_gates.present_vehicles.items()} == {"gate1": 1, "gate2": 2}
    with pytest.raises(AssertionError, match="fixed gate"):
        _ = all_gates.present_vehicle


def test_leave_without_present_vehicle_is_logged_and_ignored(bus, presence_msg, events, caplog):
    caplog.set_level(logging.INFO, logger="openmodule.utils.presence")
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(presence_msg("leave", 5), presence_msg("enter", 6))
    assert recorded == [("enter", 6, "gate1")]
    assert "no vehicle is present" in caplog.text


def test_leave_of_other_id_leaves_the_present_vehicle(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(presence_msg("enter", 1), presence_msg("leave", 9))
    # the reference reported vehicle 9 here, breaking the enter/leave pair of vehicle 1
    assert recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1")]


def test_late_leave_of_a_left_vehicle_does_not_end_the_next_one(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(
        presence_msg("enter", 1),
        presence_msg("forward", 1),
        presence_msg("enter", 2, plate="W1"),
        presence_msg("leave", 1),
    )
    assert recorded == [
        ("enter", 1, "gate1"),
        ("leave", 1, "gate1"),
        ("forward", 1, "gate1"),
        ("enter", 2, "gate1"),
    ]
    assert listener.present_vehicles["gate1"].id % 10 == 2


def test_change(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(presence_msg("change", 1), presence_msg("change", 1, plate="GARIVO2"), presence_msg("change", 2))
    assert recorded == [
        ("enter", 1, "gate1"),
        ("change", 1, "gate1"),
        ("leave", 1, "gate1"),
        ("enter", 2, "gate1"),
    ]
    assert listener.present_vehicles["gate1"].lpr.id == "GARIVO1"


def test_dedup_second_area_while_present(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(
        presence_msg("enter", 1, area="a"),
        presence_msg("enter", 2, area="b"),
        presence_msg("leave", 2, area="b"),
        presence_msg("forward", 2, area="b"),
    )
    # vehicle 2 is the same car seen by the second camera: it and all its messages are dropped
    assert recorded == [("enter", 1, "gate1")]


def test_dedup_vehicle_with_media_replaces_one_without(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    bus.send(presence_msg("enter", 1, area="a", plate=None), presence_msg("enter", 2, area="b"))
    assert recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1"), ("enter", 2, "gate1")]


def test_dedup_after_leave_same_cleaned_plate_from_other_area(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    # GARIVO1 and G-ARIV01 are the same plate in the legacy charset
    bus.send(
        presence_msg("enter", 1, area="a"),
        presence_msg("leave", 1, area="a"),
        presence_msg("enter", 2, area="b", plate="G-ARIV01"),
        presence_msg("enter", 3, area="b", plate="W9"),
    )
    assert recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1"), ("enter", 3, "gate1")]


def test_no_dedup_after_timeout(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher, deduplication_timeout=timedelta(seconds=0))
    recorded = events(listener)
    bus.send(
        presence_msg("enter", 1, area="a"),
        presence_msg("leave", 1, area="a"),
        presence_msg("enter", 2, area="b"),
    )
    assert recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1"), ("enter", 2, "gate1")]


def test_invalid_messages_are_dropped_and_the_loop_keeps_serving(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    recorded = events(listener)
    broken = presence_msg("enter", 1)
    del broken["gateway"]
    bus.send(broken, {"type": "enter", "vehicle_id": "x"}, presence_msg("enter", 2))
    assert recorded == [("enter", 2, "gate1")]


def test_callback_errors_do_not_break_state(bus, presence_msg, events):
    listener = PresenceListener(bus.dispatcher)
    listener.on_enter.append(lambda v, g: 1 / 0)
    recorded = events(listener)
    bus.send(presence_msg("enter", 1), presence_msg("leave", 1))
    assert recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1")]


def test_waiting_ids_are_bounded(monkeypatch):
    import openmodule.utils.presence._listener as impl

    monkeypatch.setattr(impl, "MAX_REMEMBERED", 3)
    remembered = impl._Expiring(600)
    for i in range(10):
        remembered.add(i)
    assert len(remembered) == 3 and 9 in remembered and 0 not in remembered
    expired = impl._Expiring(-1)
    expired.add(1)
    assert 1 not in expired


def test_listener_state_is_per_instance():
    a, b = PresenceListener(MessageDispatcher()), PresenceListener(MessageDispatcher())
    assert a.waiting_for_forward_backward is not b.waiting_for_forward_backward


def test_multi_threaded_dispatcher_refused():
    with pytest.raises(AssertionError, match="single-threaded"):
        PresenceListener(SimpleNamespace(is_multi_threaded=True))


def test_init_present_vehicles(presence_msg, events):
    calls = []
    present = PresenceBaseData.model_validate(presence_msg("enter", 4, gate="g"))

    class Client:
        def rpc(self, channel, type, request, response_type, timeout=None):
            calls.append((channel, type, request.gate, response_type))
            return PresenceRPCResponse(presents=[present])

    listener = PresenceListener(MessageDispatcher(), gate="g", rpc_client=Client())
    recorded = events(listener)
    listener.init_present_vehicles()
    assert calls == [("tracking", "get-present", "g", PresenceRPCResponse)]
    assert recorded == [("enter", 4, "g")]


def test_init_present_vehicles_error_is_logged(caplog):
    class Failing:
        def rpc(self, *args, **kwargs):
            raise TimeoutError("no tracking")

    listener = PresenceListener(MessageDispatcher(), gate="g")
    listener.init_present_vehicles(Failing())
    assert listener.present_vehicle is None
    assert "could not get the present vehicles" in caplog.text

"""De-duplication of lanes watched by two cameras (two present areas of one gate), driven through a real
dispatcher the way the message loop drives it. A fake monotonic clock stands in for waiting."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

import openmodule.utils.presence._listener as impl
from openmodule.dispatcher import MessageDispatcher
from openmodule.messaging import NoRunningCore, set_running_core
from openmodule.models.presence import PresenceBaseData, PresenceRPCResponse
from openmodule.utils.presence import PresenceListener


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(impl, "time", fake)  # only the listener's clock: the dispatcher keeps the real one
    return fake


@pytest.fixture
def lane(clock, presence_msg, events):
    """A listener on a dispatcher; ``lane.send(type, vid, area, plate=...)`` dispatches one message."""
    dispatcher = MessageDispatcher()
    listener = PresenceListener(dispatcher)
    recorded = events(listener)

    def send(type: str, vid: int, area: str, plate: str | None = None, **extra):
        dispatcher.dispatch("presence", presence_msg(type, vid, area=area, plate=plate, **extra))

    def vehicle_id(vid: int) -> int:
        return presence_msg("enter", vid)["vehicle_id"]

    return SimpleNamespace(listener=listener, recorded=recorded, send=send, clock=clock, id=vehicle_id)


def test_arrival_duplicate_is_judged_again_when_its_plate_turns_out_different(lane):
    lane.send("enter", 1, "a", "W 123")
    lane.send("leave", 1, "a", "W 123")
    lane.send("forward", 1, "a", "W 123")
    lane.send("enter", 2, "b")  # no media right after a leave at the other camera: the same car
    assert lane.id(2) in lane.listener.drop_list
    lane.send("change", 2, "b", "K 777")  # another plate: another car after all
    lane.send("leave", 2, "b", "K 777")
    lane.send("backward", 2, "b", "K 777")
    assert lane.recorded == [
        ("enter", 1, "gate1"),
        ("leave", 1, "gate1"),
        ("forward", 1, "gate1"),
        ("enter", 2, "gate1"),
        ("leave", 2, "gate1"),
        ("backward", 2, "gate1"),
    ]
    assert len(lane.listener.drop_list) == 0


def test_arrival_duplicate_stays_dropped_while_its_media_still_matches(lane):
    lane.send("enter", 1, "a", "W 123")
    lane.send("leave", 1, "a", "W 123")
    lane.send("enter", 2, "b")
    lane.send("change", 2, "b", "W-1 23")  # the same plate in the legacy charset
    lane.send("leave", 2, "b", "W-1 23")
    lane.send("forward", 2, "b", "W-1 23")
    assert lane.recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1")]


def test_change_after_the_timeout_is_a_new_vehicle(lane):
    lane.send("enter", 1, "a", "W 123")
    lane.send("leave", 1, "a", "W 123")
    lane.send("enter", 2, "b", "W 123")  # dropped: same plate within 10 s
    lane.clock.now += 60
    lane.send("change", 2, "b", "W 124")
    assert lane.recorded[-1] == ("enter", 2, "gate1")


def test_replaced_vehicle_is_dropped_for_good(lane):
    lane.send("enter", 1, "a")  # camera a: no plate yet
    lane.send("enter", 2, "b")  # camera b, same car: dropped
    lane.send("change", 2, "b", "W 123")  # camera b read the plate first: b replaces a
    assert lane.recorded == [("enter", 1, "gate1"), ("leave", 1, "gate1"), ("enter", 2, "gate1")]
    lane.send("change", 2, "b", "W 124")
    lane.send("leave", 2, "b", "W 124")
    lane.send("forward", 2, "b", "W 124")
    # camera a's late messages of the replaced view: even with nobody present, none of them counts
    lane.send("change", 1, "a", "W 124")
    lane.send("leave", 1, "a", "W 124")
    lane.send("forward", 1, "a", "W 124")
    assert lane.recorded[3:] == [("change", 2, "gate1"), ("leave", 2, "gate1"), ("forward", 2, "gate1")]
    assert lane.listener.present_vehicles == {}


def test_present_vehicle_keeps_the_lead_once_it_has_media(lane):
    lane.send("enter", 1, "a")
    lane.send("enter", 2, "b")
    lane.send("change", 1, "a", "W 123")  # a keeps the lead once it has media
    lane.send("change", 2, "b", "W 123")
    lane.send("leave", 2, "b", "W 123")
    lane.send("backward", 2, "b", "W 123")
    assert lane.recorded == [("enter", 1, "gate1"), ("change", 1, "gate1")]


def test_drop_list_and_left_vehicles_are_forgotten_after_the_retention(lane):
    lane.send("enter", 1, "a", "W 1")
    lane.send("enter", 2, "b", "W 1")  # dropped, and its leave never comes
    lane.send("leave", 1, "a", "W 1")
    lane.send("forward", 1, "a", "W 1")
    assert list(lane.listener.drop_list) == [lane.id(2)]
    assert len(lane.listener.last_vehicle_data["gate1"]) == 1
    lane.clock.now += impl.RETENTION - 60
    lane.send("enter", 3, "a", "W 3")
    lane.send("leave", 3, "a", "W 3")
    assert len(lane.listener.drop_list) == 1
    assert len(lane.listener.last_vehicle_data["gate1"]) == 2
    lane.clock.now += 120
    lane.send("enter", 4, "a", "W 4")
    lane.send("leave", 4, "a", "W 4")
    assert len(lane.listener.drop_list) == 0
    assert len(lane.listener.last_vehicle_data["gate1"]) == 2  # vehicle 1 is forgotten, 3 and 4 remain


def test_fake_leaves_and_ignored_leaves_are_logged(lane, caplog):
    caplog.set_level(logging.WARNING, logger="openmodule.utils.presence")
    lane.send("leave", 9, "a", "W 9")
    assert "The leave will be ignored" in caplog.text
    lane.send("enter", 1, "a", "W 1")
    lane.send("enter", 2, "a", "W 2")
    assert "A leave will be faked" in caplog.text
    lane.send("leave", 7, "a", "W 7")
    assert "We are fake-leaving the currently present vehicle" in caplog.text
    assert lane.recorded == [
        ("enter", 1, "gate1"),
        ("leave", 1, "gate1"),
        ("enter", 2, "gate1"),
        ("leave", 2, "gate1"),
    ]


def test_gate_is_needed_for_the_single_vehicle_view_and_the_rpc():
    listener = PresenceListener(MessageDispatcher())
    with pytest.raises(AssertionError, match="please access the present vehicle per gate"):
        _ = listener.present_vehicle
    with pytest.raises(AssertionError, match="only works if the gate is set"):
        listener.init_present_vehicles()


def test_init_present_vehicles_asks_the_running_core(presence_msg, events):
    present = PresenceBaseData.model_validate(presence_msg("enter", 4, gate="g", plate="W 4"))
    asked = []

    class Client:
        def rpc(self, channel, type, request, response_type, timeout=None):
            asked.append((channel, type, request.gate))
            return PresenceRPCResponse(presents=[present])

    listener = PresenceListener(MessageDispatcher(), gate="g")
    recorded = events(listener)
    with pytest.raises(NoRunningCore, match="init_present_vehicles"):
        listener.init_present_vehicles()
    core = SimpleNamespace(rpc_client=Client())
    set_running_core(core)  # type: ignore[arg-type]
    try:
        listener.init_present_vehicles()
    finally:
        set_running_core(None)
    assert asked == [("tracking", "get-present", "g")]
    assert recorded == [("enter", 4, "g")]


def test_present_vehicles_edited_from_outside_is_what_counts(lane):
    lane.send("enter", 1, "a", "W 1")
    lane.listener.present_vehicles = {}  # a test resets the state by hand
    lane.send("enter", 2, "b", "W 2")  # nobody is present any more: no fake leave of vehicle 1
    assert lane.recorded == [("enter", 1, "gate1"), ("enter", 2, "gate1")]
    planted = lane.listener.present_vehicles.pop("gate1")
    lane.listener.present_vehicles["gate1"] = planted.model_copy(update={"id": lane.id(7)})
    lane.send("enter", 3, "a", "W 3")  # the planted vehicle is present: it leaves first
    assert lane.recorded[2:] == [("leave", 7, "gate1"), ("enter", 3, "gate1")]

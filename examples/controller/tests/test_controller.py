"""Tests of the controller with a real core, broker and migrated SQLite database (pytest fixtures of
openmodule-test); the gate is replaced by a stub RPC handler and the cameras by openmodule-test's
PresenceSimulator."""

from __future__ import annotations

import threading
import time

import pytest
from controller import AccessCheckRequest, AccessCheckResponse, Controller
from database.models import ParkingSession
from sqlalchemy import select

from openmodule.models.base import ZMQMessage
from openmodule_test.presence import PresenceSimulator

STRANGER = "X 901 ZZ"


def stub_gate(request: AccessCheckRequest) -> AccessCheckResponse:
    """Lets everybody in except the stranger."""
    if request.plate == STRANGER:
        return AccessCheckResponse(access=False)
    return AccessCheckResponse(access=True, matched_plate=request.plate, customer="acme")


def wait_until_subscribed(dispatcher, om_client, timeout=10.0):
    """A dispatcher's subscriptions are applied by its loop thread: probe until one message came through."""
    seen = threading.Event()
    handle = dispatcher.register_handler(
        "probe", ZMQMessage, lambda _m: seen.set(), match_type=False, register_schema=False
    )
    deadline = time.monotonic() + timeout
    while not seen.wait(0.05):
        assert time.monotonic() < deadline, "the dispatcher never received the probe"
        om_client.send("probe", type="probe")
    dispatcher.unregister_handler(handle)


@pytest.fixture
def controller(om_core, om_client, om_rpc_server, om_rpc, om_database, tmp_path):
    om_rpc_server.register_handler("gate", "access_check", AccessCheckRequest, AccessCheckResponse, stub_gate)
    # the first RPC through the test client waits for the server's subscription
    assert om_rpc(
        "gate", "access_check", AccessCheckRequest(plate="A 1"), AccessCheckResponse, timeout=5
    ).access
    instance = Controller(om_core, om_database, str(tmp_path / "export"))
    wait_until_subscribed(om_core.messages, om_client)
    om_client.subscribe("session", "alert", "privacy")
    return instance


def session_event(om_client, type, timeout=10):
    return om_client.wait_for_message(lambda t, m: t == "session" and m["type"] == type, timeout)[1]


def test_sessions_alert_export_and_anonymization(controller, om_client, om_database, om_core):
    sim = PresenceSimulator("gate_in", "in", lambda message: om_client.send("presence", message))
    known = sim.vehicle().lpr("A", "G ARIVO 1")
    sim.enter(known)
    started = session_event(om_client, "started")
    assert (started["vehicle_id"], started["access"], started["customer"]) == (
        str(known.vehicle_id),
        True,
        "acme",
    )
    sim.leave()
    assert session_event(om_client, "finished")["vehicle_id"] == str(known.vehicle_id)

    stranger = sim.vehicle().lpr("A", STRANGER)
    sim.enter(stranger)
    alert = om_client.wait_for_message(lambda t, m: t == "alert", 10)[1]
    assert (alert["alert_type"], alert["status"], alert["alert_meta"]["vehicle_id"]) == (
        "unknown_vehicle",
        "error",
        str(stranger.vehicle_id),
    )
    assert session_event(om_client, "started")["access"] is False
    sim.leave()
    cleared = om_client.wait_for_message(lambda t, m: t == "alert", 10)[1]
    assert (cleared["alert_type"], cleared["status"]) == ("unknown_vehicle", "ok")
    session_event(om_client, "finished")

    with om_database as session:
        rows = session.scalars(select(ParkingSession).order_by(ParkingSession.id)).all()
        assert [(r.plate, r.access, r.gate, r.exit is not None) for r in rows] == [
            ("G ARIVO 1", True, "gate_in", True),
            (STRANGER, False, "gate_in", True),
        ]
    assert controller.open_sessions() == 0

    om_client.send("demo", type="finish")
    exported = session_event(om_client, "exported")
    assert exported["rows"] == 2
    text = open(exported["path"], "rb").read().decode("utf-16")
    lines = text.split("\r\n")
    assert lines[0] == '"Garage"\t"Session"\t"Gate"\t"Entry"\t"Exit"\t"Parked"\t"Access"\t"Customer"'
    assert lines[1].startswith('"Demo garage"\t"1"\t"gate_in"\t')
    assert lines[1].endswith('\t"yes"\t"acme"') and lines[2].endswith('\t"no"\t"-"')
    assert STRANGER not in text  # no plates in the export

    anonymize = om_client.wait_for_message(lambda t, m: t == "privacy", 10)[1]
    assert sorted(anonymize["vehicle_ids"]) == sorted([str(known.vehicle_id), str(stranger.vehicle_id)])
    assert session_event(om_client, "anonymized")["records"] == 2
    with om_database as session:
        assert session.scalars(select(ParkingSession.plate)).all() == [None, None]


def test_health_reports_open_sessions(controller, om_client, om_core):
    om_core.health.health_handler = controller.health
    sim = PresenceSimulator("gate_in", "in", lambda message: om_client.send("presence", message))
    sim.enter(sim.vehicle().lpr("A", "W 12345 B"))
    session_event(om_client, "started")
    om_client.subscribe("healthpong")
    om_client.send("healthz", type="ping")
    pong = om_client.wait_for_message_on_topic("healthpong", timeout=5)["pong"]
    assert (pong["status"], pong["meta"]) == ("ok", {"open_sessions": 1})

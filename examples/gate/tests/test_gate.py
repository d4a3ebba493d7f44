"""Tests of the gate service: the matching on its own, the RPC through a real broker (pytest fixtures) and
the health pong (unittest mixins)."""

from __future__ import annotations

import gate as gate_service
import pytest
from gate import AccessCheckRequest, AccessCheckResponse, Gate

from openmodule_test.core import OpenModuleCoreTestMixin
from openmodule_test.health import HealthTestMixin


@pytest.mark.parametrize(
    ("read", "matched", "customer"),
    [
        ("G ARIVO 1", "G ARIVO 1", "arivo"),
        ("GARIV01", "G ARIVO 1", "arivo"),  # O read as 0: one edit away
        ("L777XV", "L 777 XY", "acme"),  # one wrong character
        ("w-12345 b", "W 12345 B", "acme"),  # separators and case do not matter
    ],
)
def test_whitelisted_plates_get_access(read, matched, customer):
    gate = Gate()
    try:
        assert gate.check(AccessCheckRequest(plate=read)) == AccessCheckResponse(
            access=True, matched_plate=matched, customer=customer
        )
    finally:
        gate.close()


@pytest.mark.parametrize("read", ["X 901 ZZ", "L 7 XV", ""])
def test_strangers_are_denied(read):
    gate = Gate()
    try:
        assert gate.check(AccessCheckRequest(plate=read)) == AccessCheckResponse(access=False)
        assert gate.checks == 1
    finally:
        gate.close()


def test_access_check_rpc(om_rpc_server, om_rpc):
    gate = Gate(whitelist={"S 4711 K": "city"})
    gate_service.register(om_rpc_server, gate)
    granted = om_rpc(
        "gate", "access_check", AccessCheckRequest(plate="S4711K"), AccessCheckResponse, timeout=5
    )
    assert granted == AccessCheckResponse(access=True, matched_plate="S 4711 K", customer="city")
    denied = om_rpc(
        "gate", "access_check", AccessCheckRequest(plate="G ARIVO 1"), AccessCheckResponse, timeout=5
    )
    assert denied == AccessCheckResponse(access=False)
    gate.close()


class GateHealthTest(OpenModuleCoreTestMixin, HealthTestMixin):
    """The same service in the unittest style of the reference: a core on a test broker per test."""

    topics = ["healthpong"]

    def test_health_reports_checks(self):
        gate = Gate()
        self.addCleanup(gate.close)
        gate.check(AccessCheckRequest(plate="GARIV01"))
        self.core.health.health_handler = gate.health
        pong = self.get_health(self.zmq_config().NAME)
        self.assertHealthOk(pong)
        self.assertEqual({"checks": 1, "whitelist": 5}, pong["pong"]["meta"])

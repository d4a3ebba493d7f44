"""Reliability with real processes: broker restarts and crashes, slow handlers, the resource filter.

Measured figures are printed (run pytest with -s to see them); assertions use generous deadlines only.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from openmodule.rpc import RPCClient


def test_service_answers_echo_and_health(start_service: Any, client: Any, bus: Any) -> None:
    service = start_service(resource="res_a")
    response, attempts, seconds = client.echo_retry("hello")
    assert (response.value, response.name, response.resource) == ("hello", service.name, "res_a")
    pong, _, _ = bus.health_pong(service.name)
    assert (pong["pong"]["status"], pong["pong"]["name"]) == ("ok", service.name)
    assert service.stop() == 0
    assert service.lines()[-1] == "EXITED"


@pytest.mark.parametrize("outage", ["stop", "kill"])
def test_broker_restart_services_reconnect(
    start_service: Any, client: Any, bus: Any, broker: Any, outage: str
) -> None:
    service = start_service()
    assert client.echo_retry("before")[0].value == "before"

    # the broker goes away (clean stop or crash) and stays away for a moment
    broker.stop() if outage == "stop" else broker.kill()
    started = time.monotonic()
    with pytest.raises(RPCClient.TimeoutError):
        client.echo("during", timeout=1.0)
    waited = time.monotonic() - started
    # a call during the outage fails with the timeout, it never hangs
    assert waited < 6.0, f"an RPC during the outage took {waited:.1f} s with timeout=1 s"
    assert service.proc.poll() is None, "the service died while the broker was away"

    broker.start()  # the same ports
    back = time.monotonic()
    answered = None
    attempts = 0
    while time.monotonic() - back < 10.0:
        attempts += 1
        try:
            answered = client.echo(f"after-{attempts}", timeout=0.25)
            break
        except RPCClient.TimeoutError:
            continue
    recovered = time.monotonic() - back
    print(
        f"\n[reliability] broker {outage}: RPC during outage failed after {waited:.2f} s; "
        f"first RPC answered {recovered:.2f} s after the broker came back ({attempts} attempts)"
    )
    assert answered is not None, (
        f"no RPC answered within 10 s after the broker came back ({attempts} attempts)"
    )
    assert (answered.value, answered.name) == (f"after-{attempts}", service.name)
    # health pongs flow again, too, and the service never restarted
    pong, _, pong_seconds = bus.health_pong(service.name)
    assert pong["pong"]["status"] == "ok"
    assert sum(line.startswith("READY") for line in service.lines()) == 1
    # the user loop resubscribed as well: its messages arrive again
    deadline = time.monotonic() + 10
    while not service.has_line("WORK 999"):
        assert time.monotonic() < deadline, "user messages do not arrive after the broker came back"
        bus.publish({"type": "work", "name": "test", "timestamp": time.time(), "i": 999}, "rel_work")
        time.sleep(0.1)
    print(f"[reliability] broker {outage}: health pong {pong_seconds:.2f} s later")
    assert service.stop() == 0


def test_slow_handlers_do_not_delay_pongs_or_other_channels(
    start_service: Any, client: Any, bus: Any
) -> None:
    service = start_service()
    client.echo_retry("warm-up")
    # an RPC handler of channel rel_slow blocks until released ...
    blocked = client.block()
    service.expect("RPC BLOCKING", timeout=20)
    # ... and a user message handler blocks the user loop
    deadline = time.monotonic() + 20
    while not service.has_line("USER BLOCKING"):
        assert time.monotonic() < deadline, "the user handler never started"
        bus.publish({"type": "block", "name": "test", "timestamp": time.time()}, "rel_block")
        time.sleep(0.05)

    started = time.monotonic()
    response = client.echo("other channel", timeout=10)
    echo_seconds = time.monotonic() - started
    pong, pings, pong_seconds = bus.health_pong(service.name)
    print(
        f"\n[reliability] while two handlers block: echo on another channel {echo_seconds * 1000:.1f} ms, "
        f"health pong {pong_seconds * 1000:.1f} ms ({pings} pings)"
    )
    assert (response.value, response.name) == ("other channel", service.name)
    assert pong["pong"]["status"] == "ok"
    assert not blocked.done(), "the blocking handler finished before it was released"

    assert client.release().released is True
    assert client.block_result(blocked).released is True
    assert service.stop() == 0


def test_rpcs_for_another_resource_are_never_answered(start_service: Any, bus: Any) -> None:
    service_a = start_service(resource="res_a")
    service_b = start_service(resource="res_b")
    bus.subscribe("rpc-rep-rel")

    def request(resource: str | None) -> dict[str, Any]:
        message = {
            "timestamp": time.time(),
            "name": "rel_test",
            "type": "echo",
            "rpc_id": str(uuid.uuid4()),
            "request": {"value": resource or "none"},
        }
        if resource is not None:
            message["resource"] = resource
        return message

    # until both services answer a request without a resource, their subscriptions are live
    answered: set[str] = set()
    deadline = time.monotonic() + 20
    while answered != {service_a.name, service_b.name}:
        assert time.monotonic() < deadline, f"services not reachable, answers from {answered}"
        probe = request(None)
        bus.publish(probe, "rpc-req-rel")
        until = time.monotonic() + 0.5
        while (remaining := until - time.monotonic()) > 0:
            got = bus.receive(remaining)
            if got and got[1].get("rpc_id") == probe["rpc_id"]:
                answered.add(got[1]["name"])

    sent: dict[str, str | None] = {}
    for i in range(60):
        resource = ("res_a", "res_b", "res_other")[i % 3]
        message = request(resource)
        sent[message["rpc_id"]] = resource
        bus.publish(message, "rpc-req-rel")
    replies: dict[str, list[str]] = {}
    quiet_until = time.monotonic() + 3.0  # listen well beyond the time the answers need
    while (remaining := quiet_until - time.monotonic()) > 0:
        got = bus.receive(remaining)
        if got and got[1].get("rpc_id") in sent:
            replies.setdefault(got[1]["rpc_id"], []).append(got[1]["name"])
    owner = {"res_a": service_a.name, "res_b": service_b.name}
    wrong = {rpc_id: names for rpc_id, names in replies.items() if names != [owner.get(sent[rpc_id], "")]}
    print(
        f"\n[reliability] resource filter: {len(sent)} requests, {len(replies)} answered, "
        f"{sum(1 for r in sent.values() if r == 'res_other')} for another resource"
    )
    assert wrong == {}, "requests answered by a service of another resource (or twice)"
    assert {rpc_id for rpc_id, r in sent.items() if r != "res_other"} == set(replies)
    assert service_a.stop() == 0 and service_b.stop() == 0

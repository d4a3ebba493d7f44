"""Hardening scenarios with real processes: messages that once ended a service, a flood that outruns the
executors, and frames far above the size limit (at the service, and at the broker).

Each checks that the service stays alive, answers pings and RPCs correctly afterwards, grows by at most
10 MB of RSS and writes a bounded number of log bytes. Measured figures are printed (pytest -s).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import zmq

#: What a scenario may add to the service's resident memory (kB).
RSS_LIMIT_KB = 10 * 1024
#: What a scenario may add to the service's log (bytes): rate-limited, size-limited lines only.
LOG_LIMIT_BYTES = 64 * 1024

#: Timestamps that ended every service (OverflowError in validation) or that must be read as pydantic v1
#: read them: epoch numbers beyond any date, negative and millisecond epochs, ISO texts without a UTC form.
CRASH_STAMPS: list[tuple[Any, str]] = [
    (1e300, "validation_error"),
    (-1e300, "validation_error"),
    (-1e12, "ok"),  # milliseconds: 1938-04-24
    (1.7e12, "ok"),  # milliseconds: 2023-11-14
    ("0001-01-01T00:00:00+01:00", "validation_error"),
    ("9999-12-31T23:59:59-05:00", "validation_error"),
]
#: Requests of the ``odd`` channel: (type, value, expected status).
ODD_RPCS: list[tuple[str, str, str]] = [
    ("model", "key", "validation_error"),  # the request model's validator raises KeyError
    ("model", "recursion", "validation_error"),  # ... RecursionError from real recursion
    ("model", "unprintable", "validation_error"),  # ... an exception whose str() and repr() raise
    ("handler", "key", "handler_error"),
    ("handler", "recursion", "handler_error"),
    ("handler", "unprintable", "handler_error"),
    ("handler", "not-a-response", "handler_error"),
    ("model", "fine", "ok"),
]


def _request(rpc_type: str, value: str, timestamp: Any = None) -> dict[str, Any]:
    return {
        "timestamp": time.time() if timestamp is None else timestamp,
        "name": "rel_test",
        "type": rpc_type,
        "rpc_id": str(uuid.uuid4()),
        "request": {"value": value},
    }


def _reply(bus: Any, rpc_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The reply to ``rpc_id`` on a subscribed ``rpc-rep-*`` topic."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        got = bus.receive(remaining)
        if got and got[1].get("rpc_id") == rpc_id:
            return got[1]
    raise AssertionError(f"no reply to {rpc_id} within {timeout:g} s")


def _subscribe_replies(bus: Any, *channels: str) -> None:
    """Subscribe the raw bus to the replies of ``channels`` and wait until they arrive (subscriptions
    travel to the broker asynchronously)."""
    for channel in channels:
        bus.subscribe(f"rpc-rep-{channel}")
    for channel, rpc_type in zip(channels, ("echo", "model"), strict=False):
        deadline = time.monotonic() + 20
        while True:
            probe = _request(rpc_type, "probe")
            bus.publish(probe, f"rpc-req-{channel}")
            try:
                _reply(bus, probe["rpc_id"], timeout=0.5)
                break
            except AssertionError:
                assert time.monotonic() < deadline, f"no replies on rpc-rep-{channel}"


def _alive_and_correct(service: Any, client: Any, bus: Any, value: str) -> None:
    """The service runs, answers a health ping and an echo RPC with the right values."""
    assert service.proc.poll() is None, f"the service ended (exit code {service.proc.poll()})"
    pong, _, _ = bus.health_pong(service.name, timeout=20)
    echo, _, _ = client.echo_retry(value, deadline=20)
    assert pong["pong"]["status"] == "ok"
    assert (echo.value, echo.name) == (value, service.name)


def _stats(client: Any, deadline: float = 20.0) -> Any:
    """The service's counters; retried, since a full executor queue drops requests (that is the point)."""
    from openmodule.rpc import RPCClient

    until = time.monotonic() + deadline
    while True:
        try:
            return client.stats()
        except RPCClient.TimeoutError:
            if time.monotonic() > until:
                raise


def _quiet(bus: Any) -> None:
    """Forget replies still queued on the raw bus."""
    while bus.receive(0.05):
        pass


@pytest.mark.slow
def test_crash_messages(start_service: Any, client: Any, bus: Any) -> None:
    service = start_service()
    _alive_and_correct(service, client, bus, "warm-up")
    _subscribe_replies(bus, "rel", "odd")
    rss_before, log_before = service.rss_kb(), service.log_bytes()

    # every message once, each followed by a check that the service still answers correctly
    for stamp, expected in CRASH_STAMPS:
        bus.publish({"type": "ping", "name": "health_poller", "timestamp": stamp}, "healthz")
        request = _request("echo", f"stamp {stamp}", timestamp=stamp)
        bus.publish(request, "rpc-req-rel")
        reply = _reply(bus, request["rpc_id"])
        assert reply["response"]["status"] == expected, (stamp, reply)
        if expected == "ok":
            assert reply["response"]["value"] == f"stamp {stamp}"
        else:  # where and why, without the value
            assert '"loc":["timestamp"]' in reply["response"]["exception"], reply
            assert str(stamp) not in reply["response"]["exception"]
        _alive_and_correct(service, client, bus, f"after {stamp}")
    for rpc_type, value, expected in ODD_RPCS:
        request = _request(rpc_type, value)
        bus.publish(request, "rpc-req-odd")
        reply = _reply(bus, request["rpc_id"])
        assert reply["response"]["status"] == expected, (rpc_type, value, reply)
        for field in ("value", "model_value"):
            bus.publish({"type": "odd", "name": "t", "timestamp": time.time(), field: value}, "rel_odd")
        _alive_and_correct(service, client, bus, f"after {rpc_type} {value}")
    service.expect("ODD OK fine")  # the user loop handled the harmless one after the odd ones

    # then all of them many times over: memory and log stay bounded
    rounds = 500
    sent = 0
    for round_ in range(rounds):
        for stamp, _ in CRASH_STAMPS:
            bus.publish({"type": "ping", "name": "health_poller", "timestamp": stamp}, "healthz")
            bus.publish(_request("echo", "x", timestamp=stamp), "rpc-req-rel")
            sent += 2
        for rpc_type, value, _ in ODD_RPCS:
            bus.publish(_request(rpc_type, value), "rpc-req-odd")
            bus.publish({"type": "odd", "name": "t", "timestamp": 1, "value": value}, "rel_odd")
            bus.publish({"type": "odd", "name": "t", "timestamp": 1, "model_value": value}, "rel_odd")
            sent += 3
        if round_ % 20 == 0:
            _quiet(bus)  # keep the raw bus's own queue short
    _quiet(bus)
    _alive_and_correct(service, client, bus, "after the rounds")
    stats = _stats(client)
    rss_after, log_bytes = service.rss_kb(), service.log_bytes() - log_before
    print(
        f"\n[reliability] crash messages: {sent} sent ({len(CRASH_STAMPS)} timestamps as health pings and RPCs, "
        f"{len(ODD_RPCS)} odd RPCs and user messages, {rounds} rounds); service alive, RPC correct; "
        f"RPC {stats.rpc_counts}, user loop {stats.message_drops}, internal loop {stats.internal_drops}; "
        f"RSS {rss_before} kB before, {rss_after} kB after ({rss_after - rss_before:+d} kB); "
        f"{log_bytes} log bytes"
    )
    # counted, not lost in silence (a raw PUB drops beyond its queue of 1,000, so not every one arrives)
    assert stats.rpc_counts["validation_error"] >= rounds and stats.rpc_counts["handler_error"] >= rounds
    assert stats.internal_drops.get("validation_error", 0) >= rounds  # the bad pings
    assert stats.message_drops.get("handler_error", 0) >= rounds
    assert rss_after - rss_before <= RSS_LIMIT_KB
    assert log_bytes <= LOG_LIMIT_BYTES
    assert service.stop() == 0


def _flood(endpoint: str, frames: list[list[bytes]], total: int, done: threading.Event) -> None:
    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.setsockopt(zmq.SNDHWM, 0)  # queue here rather than drop: the broker and the service get it all
    pub.connect(endpoint)
    time.sleep(0.3)  # the PUB learns the subscriptions (else everything is filtered out at once)
    try:
        for i in range(total):
            pub.send_multipart(frames[i % len(frames)])
    finally:
        pub.close()
        context.term()
        done.set()


@pytest.mark.slow
def test_executor_flood(start_service: Any, client: Any, bus: Any, broker: Any) -> None:
    # An RPC server with a 4-thread executor and a user loop with dispatcher_max_threads=4, both flooded
    # with valid work of 5 ms each: far more than the workers do. Before the queues were bounded this grew
    # a service by 700 MB in seconds, and stopping it ran the backlog.
    service = start_service(env={"REL_DISPATCHER_THREADS": "4"})
    _alive_and_correct(service, client, bus, "warm-up")
    rss_before, log_before = service.rss_kb(), service.log_bytes()
    request = _request("slow", "flood")
    frames = [
        [b"rpc-req-flood", orjson.dumps(request)],
        [b"rel_slowmsg", b'{"type": "slow", "name": "flood", "timestamp": 1}'],
    ]
    total = 400_000
    done = threading.Event()
    sender = threading.Thread(target=_flood, args=(broker.sub_endpoint, frames, total, done), name="flood")
    started = time.monotonic()
    sender.start()
    rss_max, rounds = rss_before, 0
    while not done.is_set():
        rss_max = max(rss_max, service.rss_kb())
        _alive_and_correct(service, client, bus, f"during {rounds}")
        rounds += 1
    sender.join(60)
    send_seconds = time.monotonic() - started
    _alive_and_correct(service, client, bus, "after the flood")
    stats = _stats(client)
    rss_max = max(rss_max, service.rss_kb())
    rss_after, log_bytes = service.rss_kb(), service.log_bytes() - log_before
    stop_started = time.monotonic()
    code = service.stop()
    stop_seconds = time.monotonic() - stop_started
    print(
        f"\n[reliability] executor flood: {total} valid 5 ms requests and messages sent in {send_seconds:.1f} s; "
        f"{rounds} probe rounds during the flood, service alive, RPC correct; dropped at the RPC executor "
        f"{stats.rpc_counts.get('queue_full', 0)}, at the user pool {stats.message_drops.get('queue_full', 0)}, "
        f"{stats.queued} still queued; RSS {rss_before} kB before, max {rss_max} kB "
        f"({rss_max - rss_before:+d} kB), {rss_after} kB after; {log_bytes} log bytes; stopped in "
        f"{stop_seconds:.2f} s"
    )
    assert stats.rpc_counts.get("queue_full", 0) > 0 and stats.message_drops.get("queue_full", 0) > 0, (
        "the flood never filled a queue: the scenario does not test the bound"
    )
    assert rss_max - rss_before <= RSS_LIMIT_KB
    assert log_bytes <= LOG_LIMIT_BYTES
    assert code == 0


@pytest.mark.slow
def test_oversized_frames(start_service: Any, client: Any, bus: Any, broker: Any) -> None:
    # Twenty frames of 50 MB on each of the service's three sockets (health on the internal loop, RPC
    # requests, user messages). Without a frame limit they took a service from 36 to 983 MB.
    service = start_service()
    _alive_and_correct(service, client, bus, "warm-up")
    rss_before, log_before = service.rss_kb(), service.log_bytes()
    big = b"x" * (50 * 1024 * 1024)
    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.connect(broker.sub_endpoint)
    counters = {
        b"healthz": lambda stats: stats.internal_drops.get("oversized_frame", 0),
        b"rpc-req-rel": lambda stats: stats.receive_drops.get("oversized_frame", 0),
        b"rel_msg": lambda stats: stats.message_drops.get("oversized_frame", 0),
    }
    rss_max, frames = rss_before, 0
    try:
        time.sleep(0.3)  # the PUB learns the subscriptions
        for topic, counter in counters.items():
            for _ in range(20):
                # tracked: done once ZeroMQ has written the frame to the broker
                tracker = pub.send_multipart([topic, big], copy=False, track=True)
                tracker.wait(60)
                frames += 1
                rss_max = max(rss_max, service.rss_kb())
            # the loop of that socket saw at least one, and connected again by itself: the service answers
            deadline = time.monotonic() + 30
            while counter(_stats(client)) < 1:
                assert time.monotonic() < deadline, f"no oversized frame counted on {topic.decode()}"
                rss_max = max(rss_max, service.rss_kb())
                time.sleep(0.1)
            _alive_and_correct(service, client, bus, f"after {topic.decode()}")
            rss_max = max(rss_max, service.rss_kb())
    finally:
        pub.close()
        context.term()
    stats = _stats(client)
    rss_after, log_bytes = service.rss_kb(), service.log_bytes() - log_before
    oversized = {
        "internal loop": stats.internal_drops.get("oversized_frame", 0),
        "RPC server": stats.receive_drops.get("oversized_frame", 0),
        "user loop": stats.message_drops.get("oversized_frame", 0),
    }
    print(
        f"\n[reliability] oversized frames: {frames} frames of 50 MB sent; service alive, RPC correct; "
        f"connections dropped and made again {oversized}; RSS {rss_before} kB before, max {rss_max} kB "
        f"({rss_max - rss_before:+d} kB), {rss_after} kB after; {log_bytes} log bytes"
    )
    assert all(count >= 1 for count in oversized.values()), oversized
    assert rss_max - rss_before <= RSS_LIMIT_KB
    assert log_bytes <= LOG_LIMIT_BYTES
    assert service.stop() == 0


def _send_big_frames_to_a_broker(
    rss_kb: Callable[[int], int], limit: int, count: int
) -> tuple[int, int, int]:
    """``count`` frames of 50 MB through a broker process with ``limit``, to a subscriber that reads
    nothing until the end. Returns (broker RSS growth at its peak in kB, big frames delivered, small ones
    delivered after them)."""
    from openmodule.broker import BrokerProcess

    big = b"x" * (50 * 1024 * 1024)
    context = zmq.Context()
    with BrokerProcess(max_message_size=limit) as handle:
        assert handle.pid is not None
        pub, sub = context.socket(zmq.PUB), context.socket(zmq.SUB)
        for sock in (pub, sub):
            sock.setsockopt(zmq.LINGER, 0)
        pub.setsockopt(zmq.SNDHWM, 0)
        sub.setsockopt(zmq.RCVHWM, 0)
        try:
            pub.connect(handle.sub_endpoint)
            sub.connect(handle.pub_endpoint)
            sub.setsockopt(zmq.SUBSCRIBE, b"big")
            time.sleep(0.5)  # the subscription reaches the publisher through the broker
            rss_before = rss_max = rss_kb(handle.pid)
            for _ in range(count):
                pub.send_multipart([b"big", big], copy=False, track=True).wait(60)
                rss_max = max(rss_max, rss_kb(handle.pid))
            deadline = time.monotonic() + 20
            sizes: list[int] = []
            while not sizes or sizes[-1] != 5:  # a small frame after them: the publisher got through again
                assert time.monotonic() < deadline, f"no small frame after the big ones ({len(sizes)} frames)"
                pub.send_multipart([b"big", b"small"])
                rss_max = max(rss_max, rss_kb(handle.pid))
                while sub.poll(100):
                    sizes.append(len(sub.recv_multipart()[1]))
        finally:
            pub.close()
            sub.close()
            context.term()
    return rss_max - rss_before, sum(size == len(big) for size in sizes), sum(size == 5 for size in sizes)


@pytest.mark.slow
def test_oversized_frames_at_the_broker(rss_of: Callable[[int], int]) -> None:
    # With its limit (4 MiB by default) the broker refuses big frames before it reads them: no subscriber
    # gets one and the broker does not hold them. Without it, the broker queues them for a slow subscriber.
    grown_kb, big_delivered, small_delivered = _send_big_frames_to_a_broker(
        rss_of, limit=4 * 1024 * 1024, count=20
    )
    open_kb, open_big, _ = _send_big_frames_to_a_broker(rss_of, limit=0, count=5)
    print(
        f"\n[reliability] broker frame limit: 20 frames of 50 MB; with the limit {big_delivered} delivered, "
        f"broker RSS {grown_kb:+d} kB at peak; without it (5 frames) {open_big} delivered, broker RSS "
        f"{open_kb:+d} kB at peak"
    )
    assert big_delivered == 0 and small_delivered >= 1
    assert grown_kb <= RSS_LIMIT_KB
    assert open_big == 5  # the scenario can tell: without the limit the frames go through

"""Real pings through a real broker, asserting the exact pong bytes a deployed poller receives."""

from __future__ import annotations

import json
import threading

from openmodule.health import Health, HealthMetricType, HealthResult, health_error, health_ok
from openmodule.health._health import _STARTUP
from openmodule.models.base import datetime_to_timestamp

STARTUP = datetime_to_timestamp(_STARTUP)


def _expected(body: dict, pong: str, checks: str = "[]", metrics: str = "[]") -> bytes:
    # The timestamp is the only value we cannot know; everything else, including key order, is fixed.
    return (
        f'{{"timestamp":{json.dumps(body["timestamp"])},"name":"health_test","type":"healthz",'
        f'"pong":{pong},"checks":{checks},"metrics":{metrics}}}'
    ).encode()


def test_exact_pong_bytes(bus):
    health = Health(bus.loop.dispatcher, bus.publisher.publish, config=bus.config)
    bus.poller.connect()
    raw, body = bus.poller.ping()
    assert isinstance(body["timestamp"], float)
    assert raw == _expected(
        body, f'{{"status":"ok","version":"1.2.3","name":"health_test","startup":{json.dumps(STARTUP)}}}'
    )

    health.add_check("cam", "Camera", "camera reachable")
    health.add_check("io", "IO", None, parent=True)
    health.check_fail("cam", message="no frames \u00e4")
    health.add_metric("plates", HealthMetricType.count, "Plates", "plates read", labels=["gate"])
    health.metric_inc("plates", 3, gate="gate_1")
    bus.poller.send("healthz", b'{"type":"ping","ping":"ping"}')
    raw, body = bus.poller.receive("healthpong")
    assert raw == _expected(
        body,
        f'{{"status":"error","version":"1.2.3","name":"health_test","startup":{json.dumps(STARTUP)},'
        '"message":"no frames \\u00e4"}',
        '[{"id":"cam","package":"health_test","state":"fail","name":"Camera","description":"camera reachable",'
        '"message":"no frames \\u00e4"},{"id":"io","package":"parent_pkg","state":"no-data","name":"IO"}]',
        '[{"id":"plates","name":"Plates","description":"plates read","type":"count","labels":["gate"],'
        "\"values\":{\"[('compute_id', '1'), ('gate', 'gate_1')]\":3},\"package\":\"health_test\"}]",
    )


def test_only_ping_type_is_answered(bus):
    Health(bus.loop.dispatcher, bus.publisher.publish, config=bus.config)
    bus.poller.connect()
    # Bad input on healthz must not stop the loop: not JSON, not an object, wrong type, bad timestamp.
    for body in (b"not json", b"[1]", b'{"type":"pong"}', b'{"type":"ping","timestamp":"yesterday"}'):
        bus.poller.send("healthz", body)
    bus.poller.send("healthzz", b'{"type":"ping"}')  # prefix subscriptions must not leak other topics
    bus.poller.send("healthz", b'{"type":"ping","name":"poller","timestamp":1700000000.5}')
    raw, body = bus.poller.receive("healthpong")
    assert body["pong"]["status"] == "ok"
    assert not bus.poller.sub.poll(300)  # exactly one pong: none for the bad or foreign messages


def test_failing_handler_then_recovers(bus):
    state = {"mode": "raise"}
    release = threading.Event()

    def handler() -> HealthResult:
        if state["mode"] == "raise":
            raise ValueError("database locked")
        if state["mode"] == "hang":
            release.wait(30)
        if state["mode"] == "error":
            return health_error("we have an error", meta=dict(error="error"))
        return health_ok(meta=dict(this="is_easy"))

    health = Health(bus.loop.dispatcher, bus.publisher.publish, config=bus.config, handler_timeout=0.5)
    bus.poller.connect()  # no handler yet: the plain pong
    health.health_handler = handler
    start = json.dumps(STARTUP)

    bus.poller.send("healthz", b'{"type":"ping","ping":"ping"}')
    raw, body = bus.poller.receive("healthpong", timeout=3)  # the poller's deadline
    assert raw == _expected(
        body,
        f'{{"status":"error","version":"1.2.3","name":"health_test","startup":{start},'
        '"message":"health handler raised ValueError: database locked"}',
    )

    state["mode"] = "hang"
    bus.poller.send("healthz", b'{"type":"ping","ping":"ping"}')
    raw, body = bus.poller.receive("healthpong", timeout=3)
    assert raw == _expected(
        body,
        f'{{"status":"error","version":"1.2.3","name":"health_test","startup":{start},'
        '"message":"health handler did not return within 0.5 s"}',
    )

    state["mode"] = "error"
    release.set()
    for thread in threading.enumerate():
        if thread.name == "openmodule-health-handler":
            thread.join(10)
    bus.poller.send("healthz", b'{"type":"ping","ping":"ping"}')
    raw, body = bus.poller.receive("healthpong", timeout=3)
    assert raw == _expected(
        body,
        f'{{"status":"error","version":"1.2.3","name":"health_test","startup":{start},'
        '"message":"we have an error","meta":{"error":"error"}}',
    )

    state["mode"] = "ok"
    bus.poller.send("healthz", b'{"type":"ping","ping":"ping"}')
    raw, body = bus.poller.receive("healthpong", timeout=3)
    assert raw == _expected(
        body,
        f'{{"status":"ok","version":"1.2.3","name":"health_test","startup":{start},"meta":{{"this":"is_easy"}}}}',
    )


def test_pong_parses_with_models_and_json_labels(bus, make_config):
    from openmodule.models.health import HealthPongMessage

    config = make_config(BROKER_SUB=bus.config.BROKER_SUB, BROKER_PUB=bus.config.BROKER_PUB, COMPUTE_ID=2)
    health = Health(bus.loop.dispatcher, bus.publisher.publish, config=config, label_format="json")
    health.add_metric("temp", HealthMetricType.gauge, "Temp", "temperature", labels=["zone"])
    health.metric_set("temp", 21.5, zone="a")
    bus.poller.connect()
    _, body = bus.poller.ping()
    pong = HealthPongMessage.model_validate(body)
    assert abs((pong.pong.startup - _STARTUP).total_seconds()) < 1e-3  # float precision, not timing
    assert pong.metrics[0].values == {'{"compute_id":"2","zone":"a"}': 21.5}

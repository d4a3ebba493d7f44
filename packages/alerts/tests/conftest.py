from __future__ import annotations

import json
import time
import types
from typing import Any

import pytest
import zmq

from openmodule.config import settings


@pytest.fixture(autouse=True)
def _settings(om_clean_settings: None) -> None:
    """Models fill ``name`` from the lazy settings: give them a service name (reset after the test)."""
    settings.configure(types.SimpleNamespace(NAME="alert_test", VERSION="1.0.0", TESTING=True))


class Published(list):
    def __call__(self, message: Any, topic: str) -> None:
        self.append((topic, message))

    def wire(self) -> list[dict[str, Any]]:
        return [json.loads(message.json_bytes()) for _, message in self]


@pytest.fixture
def make_alerts():
    """AlertHandler with a recording publish; returns (handler, published)."""
    from openmodule.alert import AlertHandler

    def make(**config: Any):
        values = dict(NAME="alert_test", VERSION="1.0.0")
        values.update(config)
        published = Published()
        return AlertHandler(published, config=types.SimpleNamespace(**values)), published

    return make


class Listener:
    """A raw SUB socket on the broker: what an alert server receives."""

    def __init__(self, context: zmq.Context, broker: Any) -> None:
        self.sub = context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.connect(broker.pub_endpoint)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")

    def receive(self, topic: str, timeout: float = 10.0) -> tuple[bytes, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"nothing received on {topic!r} in {timeout} s")
            if self.sub.poll(int(remaining * 1000)):
                frames = self.sub.recv_multipart()
                if frames[0] == topic.encode():
                    return frames[1], json.loads(frames[1])

    def close(self) -> None:
        self.sub.close(0)


@pytest.fixture
def bus(om_broker_process, om_zmq_context):
    """(config, publisher, listener) on the real broker, connected (a probe message came through)."""
    from openmodule.messaging import Publisher

    config = types.SimpleNamespace(
        NAME="alert_test",
        VERSION="1.0.0",
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    publisher = Publisher(om_zmq_context, config)
    listener = Listener(om_zmq_context, om_broker_process)
    deadline = time.monotonic() + 10
    while True:  # until the subscription reached the broker and our PUB is connected
        publisher.publish({"type": "probe"}, "__ping_alerts")
        if listener.sub.poll(100):
            break
        assert time.monotonic() < deadline, "broker not reachable"
    while listener.sub.poll(200):
        listener.sub.recv_multipart()
    yield types.SimpleNamespace(config=config, publisher=publisher, listener=listener)
    listener.close()
    publisher.close()

from __future__ import annotations

import json
import time
import types
from typing import Any

import pytest
import zmq

from openmodule.config import settings


def _config(**overrides: Any) -> types.SimpleNamespace:
    values = dict(
        NAME="health_test", VERSION="1.2.3", PARENT="parent_pkg", COMPUTE_ID=1, DEBUG=False, TESTING=True
    )
    values.update(overrides)
    return types.SimpleNamespace(**values)


@pytest.fixture(autouse=True)
def _settings(om_clean_settings: None) -> None:
    """Models fill ``name`` from the lazy settings: give them a service name (reset after the test)."""
    settings.configure(types.SimpleNamespace(NAME="health_test", VERSION="1.2.3", TESTING=True))


class FakeDispatcher:
    """Records registrations; unit tests call the ping handler directly."""

    def __init__(self) -> None:
        self.handlers: list[tuple[str, Any, Any, dict[str, Any]]] = []

    def register_handler(self, topic: str, cls: Any, handler: Any, **kwargs: Any) -> Any:
        entry = (topic, cls, handler, kwargs)
        self.handlers.append(entry)
        return entry

    def unregister_handler(self, entry: Any) -> None:
        self.handlers.remove(entry)


class Published(list):
    def __call__(self, message: Any, topic: str) -> None:
        self.append((topic, message))


@pytest.fixture
def make_config():
    """A settings-like object; keyword arguments override NAME, VERSION, PARENT, COMPUTE_ID, DEBUG, TESTING."""
    return _config


@pytest.fixture
def make_health(make_config):
    """Health on a fake dispatcher; returns (health, published) where published lists (topic, message)."""
    from openmodule.health import Health

    def make(config: Any = None, **kwargs: Any):
        published = Published()
        health = Health(FakeDispatcher(), published, config=config or make_config(), **kwargs)
        return health, published

    return make


@pytest.fixture
def pong_of():
    """Calls the ping handler and returns the wire dict of the pong it published."""
    from openmodule.health import HealthPingMessage

    def pong(health: Any, published: Published) -> dict[str, Any]:
        before = len(published)
        health._on_ping(HealthPingMessage())
        assert len(published) == before + 1
        topic, message = published[-1]
        assert topic == "healthpong"
        return json.loads(message.json_bytes())

    return pong


# -- real broker ---------------------------------------------------------------------------------------
class Poller:
    """A stand-in for the deployed health poller: raw ZeroMQ sockets, raw JSON frames."""

    def __init__(self, context: zmq.Context, broker: Any) -> None:
        self.pub = context.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.connect(broker.sub_endpoint)
        self.sub = context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.connect(broker.pub_endpoint)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")

    def send(self, topic: str, body: bytes) -> None:
        self.pub.send_multipart([topic.encode(), body])

    def receive(
        self, topic: str, timeout: float = 10.0, name: str | None = None
    ) -> tuple[bytes, dict[str, Any]]:
        """The next raw body on ``topic`` (from service ``name``); fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"nothing received on {topic!r} in {timeout} s")
            if self.sub.poll(int(remaining * 1000)):
                frames = self.sub.recv_multipart()
                if frames[0] != topic.encode():
                    continue
                body = json.loads(frames[1])
                if name is None or body.get("name") == name:
                    return frames[1], body

    def ping(self, timeout: float = 10.0, name: str | None = None) -> tuple[bytes, dict[str, Any]]:
        """Pings until a pong comes back (the first pings may be lost while subscriptions propagate)."""
        deadline = time.monotonic() + timeout
        while True:
            self.send("healthz", b'{"type":"ping","ping":"ping"}')
            try:
                return self.receive(
                    "healthpong", timeout=min(0.25, max(0.05, deadline - time.monotonic())), name=name
                )
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise

    def connect(self, name: str | None = None) -> None:
        """Pings until the service answers, then drops the pongs of the retried pings still in flight."""
        self.ping(name=name)
        while self.sub.poll(300):
            self.sub.recv_multipart()

    def close(self) -> None:
        self.pub.close(0)
        self.sub.close(0)


@pytest.fixture
def bus(om_broker_process, om_zmq_context, make_config):
    """(context, config, publisher, loop, poller) wired to the real broker; everything closed afterwards."""
    from openmodule.messaging import MessageLoop, Publisher

    config = make_config(BROKER_SUB=om_broker_process.sub_endpoint, BROKER_PUB=om_broker_process.pub_endpoint)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="internal").start()
    poller = Poller(om_zmq_context, om_broker_process)
    yield types.SimpleNamespace(
        context=om_zmq_context, config=config, publisher=publisher, loop=loop, poller=poller
    )
    poller.close()
    loop.stop()
    publisher.close()

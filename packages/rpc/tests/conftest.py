from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
import zmq
from pydantic import Field

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection
from openmodule.models.base import EmptyModel, OpenModuleModel
from openmodule.rpc import RPCClient, RPCServer


# -- models shared by the tests (fixtures hand them out: test modules do not import each other) ------
class EchoRequest(OpenModuleModel):
    value: int
    text: str = ""


class EchoResponse(OpenModuleModel):
    value: int
    text: str = ""


class AliasRequest(OpenModuleModel):
    plate_number: str = Field(alias="plateNumber")


class StatusResponse(OpenModuleModel):
    status: str = "x"


@pytest.fixture
def models() -> SimpleNamespace:
    return SimpleNamespace(
        EchoRequest=EchoRequest,
        EchoResponse=EchoResponse,
        AliasRequest=AliasRequest,
        StatusResponse=StatusResponse,
        EmptyModel=EmptyModel,
    )


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def config(om_broker_process: BrokerProcess) -> SimpleNamespace:
    """Settings pointing at the test broker (installed as the global settings)."""
    module = SimpleNamespace(
        NAME="rpc-test",
        RESOURCE="test-resource",
        TESTING=False,
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(module)
    return module


@pytest.fixture
def bus(om_zmq_context: zmq.Context, config: SimpleNamespace) -> Iterator[SimpleNamespace]:
    """A connected publisher, a running message loop and an RPCClient on it (as the core builds them)."""
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="rpc-test-internal").start()
    wait_for_connection(publisher, loop, timeout=10)
    client = RPCClient(loop.dispatcher, publisher.publish, default_timeout=5.0, _warn=False)
    yield SimpleNamespace(publisher=publisher, loop=loop, dispatcher=loop.dispatcher, client=client)
    client.shutdown()
    loop.stop()
    publisher.close(0)


@pytest.fixture
def make_server(om_zmq_context: zmq.Context, bus: SimpleNamespace) -> Iterator[Callable[..., RPCServer]]:
    """Build servers replying through the bus publisher; shut down after the test."""
    servers: list[RPCServer] = []

    def make(**kwargs: Any) -> RPCServer:
        kwargs.setdefault("publish", bus.publisher.publish)
        server = RPCServer(om_zmq_context, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.shutdown(timeout=5)


@pytest.fixture
def wait_served(bus: SimpleNamespace) -> Callable[[RPCServer, str], None]:
    """Wait until ``server`` answers on ``channel`` (its subscription propagates asynchronously)."""

    def ping(request: EmptyModel, message: Any) -> None:
        """readiness probe of the tests"""

    def wait(server: RPCServer, channel: str) -> None:
        if server.find_handler(channel, "__ready") is None:
            server.register_handler(channel, "__ready", EmptyModel, EmptyModel, ping, register_schema=False)
        deadline = time.monotonic() + 10
        while True:
            try:
                bus.client.rpc(channel, "__ready", EmptyModel(), EmptyModel, timeout=0.2)
                return
            except RPCClient.TimeoutError:
                if time.monotonic() > deadline:
                    raise

    return wait


class RawBus:
    """Raw PUB/SUB sockets on the broker, to send malformed frames and read replies byte-exact."""

    def __init__(self, context: zmq.Context, config: SimpleNamespace) -> None:
        self.pub = context.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.connect(config.BROKER_SUB)
        self.sub = context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.connect(config.BROKER_PUB)
        self.sub.subscribe(b"rpc-rep-")
        probe = "rpc-rep-__probe-" + uuid.uuid4().hex
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.pub.send_multipart([probe.encode(), b"{}"])
            if self.sub.poll(100) and self.sub.recv_multipart()[0] == probe.encode():
                self.drain()
                return
        raise TimeoutError("raw sockets did not connect to the broker")

    def send(self, *frames: bytes) -> None:
        self.pub.send_multipart(list(frames))

    def request(self, channel: str, body: dict[str, Any]) -> None:
        self.send(f"rpc-req-{channel}".encode(), orjson.dumps(body))

    def drain(self) -> None:
        while self.sub.poll(50):
            self.sub.recv_multipart()

    def receive(self, timeout: float = 10.0, skip_probes: bool = True) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.sub.poll(int(remaining * 1000) + 1):
                raise TimeoutError("no reply on rpc-rep-*")
            topic, body = self.sub.recv_multipart()
            data = orjson.loads(body)
            if skip_probes and data.get("type") == "__ready":
                continue
            return topic.decode(), data

    def close(self) -> None:
        self.pub.close(0)
        self.sub.close(0)


@pytest.fixture
def raw(om_zmq_context: zmq.Context, config: SimpleNamespace) -> Iterator[RawBus]:
    bus = RawBus(om_zmq_context, config)
    yield bus
    bus.close()

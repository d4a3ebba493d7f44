"""A broker and a test client on the real ZeroMQ sockets, and ``ZMQTestMixin`` that sets both up per test."""

from __future__ import annotations

import enum
import random
import socket
import string
import threading
import time
import types
import unittest
import uuid
from collections.abc import Callable
from typing import Any

import zmq

from openmodule.config import settings
from openmodule.messaging import encode_message, receive_message_from_socket
from openmodule.utils.schema import Schema
from openmodule_test.utils import DeveloperError


class ZMQProtocol(enum.StrEnum):
    INPROC = "inproc://"
    TCP = "tcp://"


ZMQProcotol = ZMQProtocol  # the reference's spelling


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def patch_bind_string(bind: str) -> str:
    """``tcp://*:<port>`` (a bind address) as the connectable ``tcp://127.0.0.1:<port>``."""
    return bind.replace("tcp://*:", "tcp://127.0.0.1:").replace("tcp://0.0.0.0:", "tcp://127.0.0.1:")


class TestBroker:
    """An XSUB/XPUB proxy in a thread with its own ZeroMQ context (inproc endpoints need that context)."""

    __test__ = False  # not a pytest test class

    def __init__(self, sub_bind: str, pub_bind: str) -> None:
        self.sub_bind = sub_bind
        self.pub_bind = pub_bind
        self.context = zmq.Context()
        self._control_endpoint = f"inproc://test-broker-control-{uuid.uuid4().hex}"
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        xsub = self.context.socket(zmq.XSUB)
        xpub = self.context.socket(zmq.XPUB)
        for s in (xsub, xpub):
            s.setsockopt(zmq.LINGER, 0)
        xsub.bind(self.sub_bind)
        xpub.bind(self.pub_bind)
        control = self.context.socket(zmq.PAIR)
        control.setsockopt(zmq.LINGER, 0)
        control.bind(self._control_endpoint)
        self._control = self.context.socket(zmq.PAIR)
        self._control.setsockopt(zmq.LINGER, 0)
        self._control.connect(self._control_endpoint)

        def serve() -> None:
            try:
                zmq.proxy_steerable(xsub, xpub, None, control)
            except zmq.ZMQError:
                pass
            finally:
                for s in (xsub, xpub, control):
                    s.close(0)

        self._thread = threading.Thread(target=serve, name="test-broker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            try:
                self._control.send(b"TERMINATE")
            except zmq.ZMQError:
                pass
            self._thread.join(10)
            self._control.close(0)
            alive = self._thread.is_alive()
            self._thread = None
            assert not alive, "test broker did not stop within 10 s"
        # A socket left open by the code under test would block term() forever: give it 10 s, then say which.
        terminator = threading.Thread(target=self.context.term, daemon=True)
        terminator.start()
        terminator.join(10)
        if terminator.is_alive():
            self.context.destroy(linger=0)
            raise AssertionError(
                "the ZeroMQ context could not be terminated within 10 s: a socket of the code under test is still "
                "open (shut the core / RPC server down in tearDown, and never use LINGER -1)"
            )


class TestClient:
    """PUB/SUB sockets for a test: subscribe, send and wait for messages.

    Received messages are buffered in order; ``wait_for_message`` consumes them.
    """

    __test__ = False
    startup_check_delay = 0.05
    startup_check_iterations = 20

    def __init__(self, context: zmq.Context[Any], sub_endpoint: str, pub_endpoint: str) -> None:
        self.context = context
        self.pub = context.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.connect(sub_endpoint)
        self.sub = context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.RCVHWM, 100_000)
        self.sub.connect(pub_endpoint)
        self.subscribed_topics: set[str] = set()
        self.recv_messages: list[tuple[str, dict[str, Any]]] = []
        self._send_lock = threading.Lock()
        self._wait_lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.pub.close(0)
            self.sub.close(0)

    # -- sending ------------------------------------------------------------------------------------
    def send(self, topic: str, _message: Any = None, **kwargs: Any) -> None:
        """Publish a model, a dict or keyword fields (must contain ``type``) on ``topic``."""
        assert isinstance(topic, str), "topics are str"
        if _message is not None and kwargs:
            raise DeveloperError("pass either a message or keyword fields, not both")
        if _message is None:
            message: dict[str, Any] = dict(kwargs)
        elif isinstance(_message, dict):
            message = dict(_message)
        else:
            message = _message.model_dump(mode="json")
        if "type" not in message:
            raise DeveloperError("a message needs a 'type'")
        message.setdefault("name", "testcase")
        message.setdefault("timestamp", time.time())
        self._send_raw(topic, message)

    def _send_raw(self, topic: str, message: Any) -> None:
        with self._send_lock:
            self.pub.send_multipart([topic.encode(), encode_message(message)])

    # -- receiving ----------------------------------------------------------------------------------
    def subscribe(self, *topics: str) -> None:
        """Subscribe and wait until each subscription has reached the broker (echo of a test command)."""
        for topic in topics:
            assert isinstance(topic, str), "topics are str"
            if topic in self.subscribed_topics:
                continue
            self.sub.subscribe(topic.encode())
            self.subscribed_topics.add(topic)
            token = uuid.uuid4().hex
            for _ in range(self.startup_check_iterations):
                self._send_raw(
                    topic, {"__testcommand": "hi", "token": token, "name": "testclient", "type": "cmd"}
                )
                if self._drain(self.startup_check_delay, until_token=token):
                    break
            else:
                raise AssertionError(f"subscription to {topic!r} did not reach the broker")

    def _drain(self, timeout: float, until_token: str | None = None) -> bool:
        """Receive into the buffer for up to ``timeout`` s; True once the token (if any) came back."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self.sub.poll(int(remaining * 1000) + 1):
                return False
            while self.sub.poll(0):
                topic, message = receive_message_from_socket(self.sub)
                if topic is None or message is None:
                    continue
                if "__testcommand" in message:
                    if until_token is not None and message.get("token") == until_token:
                        return True
                    continue
                self.recv_messages.append((topic, message))
            if until_token is None:
                return True

    def wait_for_message(
        self, filter: Callable[[str, dict[str, Any]], bool], timeout: float = 3
    ) -> tuple[str, dict[str, Any]]:
        """Consume received messages in order until ``filter(topic, message)`` is true."""
        if not self._wait_lock.acquire(blocking=False):
            raise DeveloperError("wait_for_message is used from two threads at once")
        try:
            deadline = time.monotonic() + timeout
            while True:
                while self.recv_messages:
                    topic, message = self.recv_messages.pop(0)
                    if filter(topic, message):
                        return topic, message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching message within {timeout}s")
                self._drain(min(remaining, 0.05))
        finally:
            self._wait_lock.release()

    def wait_for_message_on_topic(self, topic: str, timeout: float = 3) -> dict[str, Any]:
        """The next message received on exactly ``topic``."""
        if topic not in self.subscribed_topics:
            raise DeveloperError(f"not subscribed to {topic!r}: add it to the test's `topics = [...]`")
        return self.wait_for_message(lambda t, _m: t == topic, timeout)[1]


def _random_letters(n: int = 10) -> str:
    return "".join(random.choices(string.ascii_lowercase, k=n))


def fake_config(broker: TestBroker | None = None, **kwargs: Any) -> types.SimpleNamespace:
    """A settings-like namespace for code that takes a ``config`` argument."""
    values: dict[str, Any] = dict(
        NAME="test",
        RESOURCE="test-resource",
        VERSION="test-version",
        LOG_LEVEL=10,
        TESTING=True,
        DEBUG=False,
        BROKER_SUB=broker.sub_bind if broker else settings.BROKER_SUB,
        BROKER_PUB=broker.pub_bind if broker else settings.BROKER_PUB,
    )
    values.update(kwargs)
    return types.SimpleNamespace(**values)


class ZMQTestMixin(unittest.TestCase):
    """A fresh broker and test client per test, with settings pointing at them.

    Usage::

        class MyTest(ZMQTestMixin):
            topics = ["healthpong"]
            def test_it(self):
                self.zmq_client.send("healthz", type="ping", ping="ping")
                self.zmq_client.wait_for_message_on_topic("healthpong")
    """

    topics: list[str] = []
    rpc_channels: list[str] = []
    protocol: str = ZMQProtocol.INPROC
    zmq_broker: TestBroker
    zmq_client: TestClient

    def setUp(self) -> None:
        super().setUp()
        protocol = ZMQProtocol(self.protocol)
        if protocol is ZMQProtocol.INPROC:
            suffix = _random_letters()
            sub, pub = f"inproc://test-sub-{suffix}", f"inproc://test-pub-{suffix}"
        else:
            sub, pub = f"tcp://127.0.0.1:{free_tcp_port()}", f"tcp://127.0.0.1:{free_tcp_port()}"
        settings.override(BROKER_SUB=sub, BROKER_PUB=pub)
        self.addCleanup(settings.reset)
        self.zmq_broker = TestBroker(sub, pub)
        self.zmq_broker.start()
        self.addCleanup(self._stop_zmq)
        self.zmq_client = TestClient(self.zmq_broker.context, sub, pub)
        self.zmq_client.subscribe(*self.topics, *(f"rpc-rep-{c}" for c in self.rpc_channels))

    def _stop_zmq(self) -> None:
        self.zmq_client.close()
        self.zmq_broker.stop()
        _write_schema()

    def zmq_context(self) -> zmq.Context[Any]:
        return self.zmq_broker.context

    def zmq_config(self) -> Any:
        return settings

    def assertSubscription(self, *topics: str) -> None:
        missing = [t for t in topics if t not in self.zmq_client.subscribed_topics]
        if missing:
            raise AssertionError(
                f"the test client is not subscribed to {missing}: declare topics = {missing!r}"
            )

    def wait_for_dispatcher(self, dispatcher: Any, timeout: float = 3) -> None:
        """Wait until ``dispatcher`` receives messages (its subscriptions reached the broker)."""
        topic = f"_test{_random_letters()}"
        received = threading.Event()
        handle = dispatcher.register_handler(
            topic, _TestPing, lambda _m: received.set(), register_schema=False
        )
        try:
            deadline = time.monotonic() + timeout
            while not received.wait(0.05):
                if time.monotonic() > deadline:
                    raise AssertionError(f"dispatcher did not receive on {topic!r} within {timeout}s")
                self.zmq_client.send(topic, type="ping")
        finally:
            dispatcher.unregister_handler(handle)


def _write_schema() -> None:
    # Imported at module level: handlers registered in the very first test are recorded too.
    Schema.to_file()


def _ping_model() -> type:
    from openmodule.models.base import ZMQMessage

    class TestPing(ZMQMessage):
        type: str = "ping"

    return TestPing


_TestPing = _ping_model()


# -- RPC helpers of ZMQTestMixin (kept here so every mixin built on it has them) ------------------------------
def _rpc_entry(channel: str, type: str, timeout: float, rpc_id: Any = None) -> Any:
    from openmodule.rpc import RPCEntry

    return RPCEntry(timeout, rpc_id, channel=channel, type=type)


def _rpc_no_response(
    self: ZMQTestMixin, channel: str, type: str, request: Any, resource: str | None = None
) -> str:
    """Send a request as ``testclient`` and return its rpc id (the response is read separately)."""
    if hasattr(request, "model_dump"):
        payload = request.model_dump(by_alias=True, exclude_none=True, mode="json")
    else:
        payload = request
    rpc_id = str(uuid.uuid4())
    message = {
        "type": type,
        "name": "testclient",
        "timestamp": time.time(),
        "rpc_id": rpc_id,
        "request": payload,
        "resource": resource if resource is not None else settings.RESOURCE,
    }
    self.zmq_client._send_raw(f"rpc-req-{channel}", message)
    return rpc_id


def _receive_rpc_response(
    self: ZMQTestMixin, channel: str, rpc_id: str, response_type: type, timeout: float = 3
) -> Any:
    """The response to ``rpc_id`` parsed as ``response_type`` (``RPCClient`` exceptions for error statuses)."""
    if channel not in self.rpc_channels:
        raise DeveloperError(f"channel {channel!r} is not in the test's rpc_channels = [...]")
    topic = f"rpc-rep-{channel}"
    entry = _rpc_entry(channel, "", timeout, uuid.UUID(rpc_id))
    try:
        _t, message = self.zmq_client.wait_for_message(
            lambda t, m: t == topic and str(m.get("rpc_id")) == rpc_id, timeout
        )
    except TimeoutError:
        from openmodule.rpc import RPCClient

        raise RPCClient.TimeoutError(f"no response to RPC {channel} ({rpc_id}) within {timeout}s") from None
    entry._set_response(message["response"])
    return entry.result(response_type)


def _rpc(
    self: ZMQTestMixin,
    channel: str,
    type: str,
    request: Any,
    response_type: type,
    timeout: float = 3,
    resource: str | None = None,
) -> Any:
    """Call an RPC through the test client; returns the parsed response."""
    rpc_id = self.rpc_no_response(channel, type, request, resource=resource)
    return self.receive_rpc_response(channel, rpc_id, response_type, timeout)


ZMQTestMixin.rpc_no_response = _rpc_no_response  # type: ignore[attr-defined]
ZMQTestMixin.receive_rpc_response = _receive_rpc_response  # type: ignore[attr-defined]
ZMQTestMixin.rpc = _rpc  # type: ignore[attr-defined]

"""A broker and a test client on the real ZeroMQ sockets, and ``ZMQTestMixin`` that sets both up per test.

ZeroMQ sockets are not thread-safe, and closing one while another thread uses it aborts the whole process
inside libzmq. So every socket here is created, used and closed by one thread: the broker's sockets by the
broker thread, the client's by the client thread (other threads hand it work through a queue and a wake-up
pipe). ``TestBroker.stop()`` terminates the context and never closes a socket of another thread: a socket the
code under test left open is reported (with its type, endpoints, thread and linger) instead.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import random
import socket
import string
import threading
import time
import types
import unittest
import uuid
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import zmq
from pydantic import BaseModel

from openmodule.config import settings
from openmodule.dispatcher import MessageDispatcher
from openmodule.messaging import encode_message
from openmodule.utils.schema import Schema
from openmodule_test.utils import DeveloperError

__all__ = [
    "TestBroker",
    "TestClient",
    "TestClientStopped",
    "ZMQProcotol",
    "ZMQProtocol",
    "ZMQTestMixin",
    "fake_config",
    "free_tcp_port",
    "patch_bind_string",
]

log = logging.getLogger("openmodule_test.zeromq")
ResponseT = TypeVar("ResponseT", bound=BaseModel)


class ZMQProtocol(enum.StrEnum):
    INPROC = "inproc://"
    TCP = "tcp://"


ZMQProcotol = ZMQProtocol  # the reference's spelling


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def patch_bind_string(bind: str) -> str:
    """A bind address ``tcp://*:<port>`` as the connectable ``tcp://127.0.0.1:<port>``; others unchanged.

    Usage: ``patch_bind_string("tcp://*:10100")`` -> ``"tcp://127.0.0.1:10100"``
    """
    if bind.startswith("tcp://*:"):
        return "tcp://127.0.0.1:" + bind[len("tcp://*:") :]
    return bind


# -- sockets that remember what stop() needs to report, in plain attributes --------------------------------
class _TrackedSocket(zmq.Socket):  # type: ignore[type-arg]
    """A ``zmq.Socket`` that remembers its LINGER, endpoints, creating thread and whether it was closed.

    ``TestBroker.stop()`` reads only these attributes: asking the socket itself (``closed``, ``LINGER``) from
    another thread would use it from two threads.
    """

    _om_linger: int = -1
    _om_closed: bool = False
    _om_thread: str = ""
    _om_endpoints: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._om_thread = threading.current_thread().name
        self._om_endpoints = ()

    def set(self, option: int, optval: Any) -> None:
        super().set(option, optval)
        if option == zmq.LINGER:
            self._om_linger = int(optval)

    setsockopt = set

    def bind(self, addr: str) -> Any:
        result = super().bind(addr)
        self._om_endpoints += (f"bound {addr}",)
        return result

    def connect(self, addr: str) -> Any:
        result = super().connect(addr)
        self._om_endpoints += (f"connected to {addr}",)
        return result

    def close(self, linger: int | None = None) -> None:
        self._om_closed = True
        super().close(linger)

    def _om_describe(self) -> str:
        kind = getattr(self.__dict__.get("type"), "name", "ZMQ")  # stored at creation: no socket call
        linger = "infinite linger (LINGER -1)" if self._om_linger < 0 else f"LINGER {self._om_linger} ms"
        where = ", ".join(self._om_endpoints) or "not connected"
        return f"{kind} socket ({where}; created in thread {self._om_thread!r}; {linger})"


class _TrackedContext(zmq.Context):  # type: ignore[type-arg]
    _socket_class = _TrackedSocket

    def _om_open_sockets(self) -> list[_TrackedSocket]:
        sockets = list(getattr(self, "_sockets", None) or ())
        return [s for s in sockets if isinstance(s, _TrackedSocket) and not s._om_closed]


class TestBroker:
    """An XSUB/XPUB proxy in a thread with its own ZeroMQ context (inproc endpoints need that context).

    Usage::

        broker = TestBroker("inproc://sub", "inproc://pub")
        broker.start()
        ...   # services and TestClients use broker.context
        broker.stop()

    ``stop()`` terminates the context: every socket of the code under test must be closed by then (the
    test's tearDown shuts the core / RPC servers down). If one is still open after ``shutdown_timeout``
    seconds, ``stop()`` fails and names it; the context is then left to terminate on its own (closing a
    socket that another thread uses would abort the process).
    """

    __test__ = False  # not a pytest test class
    shutdown_timeout: float = 10.0

    def __init__(self, sub_bind: str, pub_bind: str) -> None:
        self.sub_bind = sub_bind
        self.pub_bind = pub_bind
        self.context: zmq.Context[Any] = _TrackedContext()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._terminated = False
        #: The started TestClients of this broker (a subscription is confirmed through each of them).
        self._clients: weakref.WeakSet[TestClient] = weakref.WeakSet()

    def start(self) -> None:
        """Bind both sides (in the broker thread) and start forwarding; bind errors are raised here."""
        assert self._thread is None, "test broker already started"
        self._thread = threading.Thread(target=self._serve, name="test-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.shutdown_timeout):
            raise AssertionError("test broker did not start")
        if self._start_error is not None:
            self._thread.join(self.shutdown_timeout)
            self._thread = None
            raise self._start_error

    def _serve(self) -> None:
        sockets: list[zmq.Socket[Any]] = []
        try:
            xsub = self.context.socket(zmq.XSUB)
            sockets.append(xsub)
            xpub = self.context.socket(zmq.XPUB)
            sockets.append(xpub)
            for s in sockets:
                s.setsockopt(zmq.LINGER, 0)
            xsub.bind(self.sub_bind)
            xpub.bind(self.pub_bind)
        except BaseException as exc:
            self._start_error = exc
            for s in sockets:
                s.close(0)
            self._ready.set()
            return
        self._ready.set()
        try:
            zmq.proxy(xsub, xpub)
        except zmq.ZMQError:  # ContextTerminated: stop() terminates the context
            pass
        finally:
            for s in sockets:
                s.close(0)

    def stop(self) -> None:
        """Stop forwarding and terminate the context; fails naming every socket still open."""
        if self._terminated:
            return
        # term() interrupts every blocking call on the context's sockets, the proxy's included: each owning
        # thread sees ETERM and closes its sockets, and term() returns once all are closed. It runs in a
        # helper thread so a leftover socket cannot hang the test run; the context is never destroy()ed
        # (that closes sockets other threads still use, which aborts the process inside libzmq).
        terminator = threading.Thread(target=self.context.term, name="test-broker-term", daemon=True)
        terminator.start()
        terminator.join(self.shutdown_timeout)
        thread, self._thread = self._thread, None
        if not terminator.is_alive():
            self._terminated = True
            if thread is not None:
                thread.join(self.shutdown_timeout)
            return
        leftovers = self.context._om_open_sockets() if isinstance(self.context, _TrackedContext) else []
        described = (
            "\n".join(f"  - {s._om_describe()}" for s in leftovers) or "  - (a socket closed with LINGER -1)"
        )
        infinite = any(s._om_linger < 0 for s in leftovers)
        hint = (
            "a socket with infinite linger (LINGER -1, the ZeroMQ default) keeps the context alive: set LINGER "
            "on every socket"
            if infinite
            else "every socket must be closed by the thread that owns it before the broker stops"
        )
        raise AssertionError(
            f"the ZeroMQ context of the test broker could not be terminated within {self.shutdown_timeout:g} s, "
            f"these sockets are still open:\n{described}\n{hint}: shut the core / RPC servers down and close "
            "your own sockets in tearDown, and never use infinite linger. The context is left to terminate on "
            "its own."
        )


class TestClientStopped(TimeoutError):
    """The test client no longer receives (it was stopped, or it got an invalid message or a handler failed):
    the message waited for cannot arrive. A ``TimeoutError``, so code that waits with a timeout sees one."""

    __test__ = False


class TestClient(threading.Thread):
    """A thread with its own PUB/SUB sockets on the broker: subscribe, send and wait for messages.

    Usage::

        client = TestClient(broker)
        client.start()
        client.subscribe("healthpong")
        client.send("healthz", type="ping", ping="ping")
        pong = client.wait_for_message_on_topic("healthpong")
        client.stop()

    Received messages are buffered in order (``recv_messages``) and consumed by ``wait_for_message``; they
    are also dispatched through ``zmq_dispatcher`` (a ``MessageDispatcher`` whose handlers run in the client
    thread; a failing handler or an invalid message stops the client, and the next wait reports why).
    Only the client thread touches its sockets: ``send``/``subscribe`` from any thread queue work for it.
    ``TestClient(context, sub_endpoint, pub_endpoint)`` connects to endpoints without a ``TestBroker``.
    """

    __test__ = False
    startup_check_delay = 0.05
    #: Attempts of ``subscribe`` to see its check message come back (slow machines need more than 20).
    startup_check_iterations = 100

    def __init__(
        self,
        broker: TestBroker | zmq.Context[Any],
        sub_endpoint: str | None = None,
        pub_endpoint: str | None = None,
    ) -> None:
        super().__init__(name="test-client", daemon=True)
        if isinstance(broker, TestBroker):
            self.broker: TestBroker | None = broker
            self.context = broker.context
            sub_endpoint = sub_endpoint or broker.sub_bind
            pub_endpoint = pub_endpoint or broker.pub_bind
        else:
            self.broker = None
            self.context = broker
        if sub_endpoint is None or pub_endpoint is None:
            raise DeveloperError("TestClient(context, ...) needs the broker's sub and pub endpoints")
        # The client connects to what the broker binds (tcp://*:port binds are reached over 127.0.0.1).
        self.sub_endpoint = patch_bind_string(sub_endpoint)
        self.pub_endpoint = patch_bind_string(pub_endpoint)
        self.subscribed_topics: set[str] = set()
        self.recv_messages: list[tuple[str, dict[str, Any]]] = []
        self.zmq_dispatcher = MessageDispatcher(
            name="test-client", raise_validation_errors=True, raise_handler_errors=True
        )
        self.error: BaseException | None = None
        self._command_topic = f"_testclient_{uuid.uuid4().hex}"
        self._commands: deque[tuple[str, Any]] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._pipe_closed = False
        self._cond = threading.Condition()
        self._echoes: set[str] = set()
        self._stop_requested = False
        self._done = False
        self._ready = threading.Event()
        self._start_lock = threading.Lock()
        self._wait_lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the client thread and wait until its sockets exist; calling it again does nothing."""
        with self._start_lock:
            if self.ident is None:
                super().start()
                if self.broker is not None:
                    self.broker._clients.add(self)
        self._ready.wait(10)
        if self.error is not None and not self.is_alive():
            raise TestClientStopped(f"the test client could not start: {self.error!r}")

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread (it closes its sockets) and wait for it. Idempotent."""
        self._stop_requested = True
        self._wake()
        if self.ident is not None and self is not threading.current_thread():
            self.join(timeout)
        if not self.is_alive():
            self._close_pipe()

    close = stop

    def _close_pipe(self) -> None:
        with self._cond:
            if self._pipe_closed:
                return
            self._pipe_closed = True
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _wake(self) -> None:
        if self._pipe_closed:
            return
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):  # full (already awake) or closed (stopped)
            pass

    def _command(self, *command: Any) -> None:
        if self.ident is None:
            self.start()
        if self._done:
            raise self._stopped_error()
        self._commands.append(command)
        self._wake()

    def _stopped_error(self) -> TestClientStopped:
        if self.error is not None:
            return TestClientStopped(f"the test client stopped receiving: {self.error}")
        return TestClientStopped("the test client was stopped")

    # -- the client thread --------------------------------------------------------------------------
    def run(self) -> None:
        pub = sub = None
        try:
            pub = self.context.socket(zmq.PUB)
            pub.setsockopt(zmq.LINGER, 0)
            pub.connect(self.sub_endpoint)
            sub = self.context.socket(zmq.SUB)
            sub.setsockopt(zmq.LINGER, 0)
            sub.setsockopt(zmq.RCVHWM, 100_000)
            sub.connect(self.pub_endpoint)
            sub.subscribe(self._command_topic.encode())
            poller = zmq.Poller()
            poller.register(sub, zmq.POLLIN)
            poller.register(self._wake_r, zmq.POLLIN)
            self._ready.set()
            while not self._stop_requested:
                events = dict(poller.poll())
                if self._wake_r in events:
                    try:
                        while os.read(self._wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                self._run_commands(pub, sub)
                if sub in events:
                    self._receive(sub)
        except zmq.ContextTerminated:
            pass  # the broker stopped first: nothing can be received any more
        except BaseException as exc:
            self.error = exc
            log.error("test client stopped: %s", exc, exc_info=not isinstance(exc, _InvalidMessage))
        finally:
            for s in (pub, sub):
                if s is not None:
                    s.close(0)
            with self._cond:
                self._done = True
                self._cond.notify_all()
            self._ready.set()

    def _run_commands(self, pub: zmq.Socket[Any], sub: zmq.Socket[Any]) -> None:
        commands = self._commands
        if commands:
            # ZeroMQ reads the subscriptions a PUB socket was sent only now and then when sending (a send
            # right after another client subscribed could drop the message); EVENTS makes it read them now.
            pub.getsockopt(zmq.EVENTS)
        while commands:
            kind, value = commands.popleft()
            if kind == "send":
                pub.send_multipart(value)
            elif kind == "subscribe":
                sub.setsockopt(zmq.SUBSCRIBE, value)
            elif kind == "unsubscribe":
                sub.setsockopt(zmq.UNSUBSCRIBE, value)

    def _receive(self, sub: zmq.Socket[Any]) -> None:
        while not self._stop_requested:
            try:
                frames = sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) != 2:
                raise _InvalidMessage(
                    f"received an invalid message: invalid number of parts: {len(frames)} (expected topic and "
                    f"JSON body), first frame {frames[0][:80]!r}"
                )
            try:
                topic = frames[0].decode("utf-8")
                message = json.loads(frames[1])
            except ValueError as exc:  # not UTF-8, or not JSON
                raise _InvalidMessage(
                    f"received an invalid message on {frames[0][:80]!r}: {exc}: {frames[1][:80]!r}"
                ) from None
            if not isinstance(message, dict):
                raise _InvalidMessage(
                    f"received a message on {topic!r} that is not a dict: {frames[1][:80]!r}"
                )
            if "__testcommand" in message:
                token = message.get("token")
                if token is not None:
                    with self._cond:
                        self._echoes.add(token)
                        self._cond.notify_all()
                continue
            with self._cond:
                self.recv_messages.append((topic, message))
                self._cond.notify_all()
            self.zmq_dispatcher.dispatch(topic, message)

    # -- sending ------------------------------------------------------------------------------------
    def send(self, topic: str, _message: Any = None, **kwargs: Any) -> None:
        """Publish a model, a dict or keyword fields (must contain ``type``) on ``topic``.

        ``name`` defaults to ``"testcase"`` and ``timestamp`` to now.
        """
        assert isinstance(topic, str), "topics are str"
        if _message is not None and kwargs:
            raise DeveloperError("pass either a message or keyword fields, not both")
        if _message is None:
            message: dict[str, Any] = dict(kwargs)
        elif isinstance(_message, dict):
            message = dict(_message)
        else:
            message = json.loads(encode_message(_message))  # the model's wire form
        if "type" not in message:
            raise DeveloperError("a message needs a 'type'")
        message.setdefault("name", "testcase")
        message.setdefault("timestamp", time.time())
        self.send_raw(topic, message)

    def send_raw(self, topic: str, message: Any) -> None:
        """Publish ``message`` (a dict or model) on ``topic`` exactly as given (no defaults are added)."""
        self._command("send", [topic.encode("utf-8"), encode_message(message)])

    _send_raw = send_raw

    def _zmq_cmd(self, command: str, topic: str | None = None, **fields: Any) -> None:
        """Send a test command message (never delivered to tests) on ``topic`` (default: a private topic)."""
        message = {"__testcommand": command, "name": "testclient", "type": "cmd", **fields}
        self.send_raw(topic if topic is not None else self._command_topic, message)

    # -- receiving ----------------------------------------------------------------------------------
    def subscribe(self, *topics: str) -> None:
        """Subscribe and wait until each subscription has reached the broker (a test command comes back)."""
        for topic in topics:
            if isinstance(topic, bytes):
                raise DeveloperError(f"topics are str, not bytes: use {topic.decode()!r}")
            assert isinstance(topic, str), "topics are str"
            if topic in self.subscribed_topics:
                continue
            self._command("subscribe", topic.encode("utf-8"))
            # Confirmed through this client's PUB socket and through those of the other clients of the
            # broker: any of them may send on the topic right after this returns.
            senders = [self, *(c for c in self._other_clients() if c.is_alive())]
            for sender in senders:
                token = uuid.uuid4().hex
                for _ in range(self.startup_check_iterations):
                    try:
                        sender._zmq_cmd("hi", topic=topic, token=token)
                    except TestClientStopped:
                        if sender is self:
                            raise
                        break  # the other client stopped meanwhile: it sends nothing any more
                    if self._wait_echo(token, self.startup_check_delay):
                        break
                else:
                    if sender is self:
                        raise AssertionError(
                            f"the subscription to {topic!r} did not reach the broker within "
                            f"{self.startup_check_iterations * self.startup_check_delay:g} s"
                        )
                    # another client that does not serve its commands (a handler of it blocks): go on
                    log.warning("test client %s did not confirm the subscription to %r", sender.name, topic)
            self.subscribed_topics.add(topic)

    def _other_clients(self) -> list[TestClient]:
        if self.broker is None:
            return []
        return [c for c in list(self.broker._clients) if c is not self]

    def unsubscribe(self, *topics: str) -> None:
        for topic in topics:
            if topic in self.subscribed_topics:
                self.subscribed_topics.discard(topic)
                self._command("unsubscribe", topic.encode("utf-8"))

    def _wait_echo(self, token: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while token not in self._echoes:
                if self._done:
                    raise self._stopped_error()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            self._echoes.discard(token)
            return True

    def wait_for_message(
        self, filter: Callable[[str, dict[str, Any]], bool], timeout: float = 3
    ) -> tuple[str, dict[str, Any]]:
        """Consume received messages in order until ``filter(topic, message)`` is true.

        ``TimeoutError`` if none does within ``timeout`` s (``TestClientStopped``, a ``TimeoutError``, at
        once if the client no longer receives). One thread at a time: a second raises ``DeveloperError``.
        """
        if not self._wait_lock.acquire(blocking=False):
            raise DeveloperError(
                "the test client is not thread safe: wait_for_message is already waiting in another thread "
                "(use a second TestClient for the other thread)"
            )
        try:
            if self.ident is None:
                self.start()
            deadline = time.monotonic() + timeout
            with self._cond:
                while True:
                    while self.recv_messages:
                        topic, message = self.recv_messages.pop(0)
                        if filter(topic, message):
                            return topic, message
                    if self._done:
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"no matching message within {timeout:g} s")
                    self._cond.wait(remaining)
            if self is not threading.current_thread():
                self.join(5)  # it has closed its sockets; let it end before reporting
            raise self._stopped_error()
        finally:
            self._wait_lock.release()

    def wait_for_message_on_topic(self, topic: str, timeout: float = 3) -> dict[str, Any]:
        """The next message received on exactly ``topic`` (``DeveloperError`` if not subscribed)."""
        if topic not in self.subscribed_topics:
            raise DeveloperError(
                f"the test client is not subscribed to {topic!r}: please subscribe first (add it to the test's "
                f"`topics = [...]` or call zmq_client.subscribe({topic!r}))"
            )
        return self.wait_for_message(lambda t, _m: t == topic, timeout)[1]


class _InvalidMessage(Exception):
    """The test client received something that is not a ``[topic, JSON object]`` message."""


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
        self.zmq_client = TestClient(self.zmq_broker)
        self.zmq_client.start()
        self.zmq_client.subscribe(*self.topics, *(f"rpc-rep-{c}" for c in self.rpc_channels))

    def _stop_zmq(self) -> None:
        try:
            _shutdown_leftover_core(self.zmq_broker.context)
            self.zmq_client.stop()
            self.zmq_broker.stop()
        finally:
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

    def wait_for_dispatcher(self, dispatcher: MessageDispatcher, timeout: float = 3) -> None:
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

    # -- RPC through the test client ---------------------------------------------------------------
    def rpc_no_response(
        self, channel: str, type: str, request: BaseModel | dict[str, Any] | None, resource: str | None = None
    ) -> str:
        """Send a request as ``testclient`` and return its rpc id (the response is read separately)."""
        payload: Any = request
        if isinstance(request, BaseModel):
            payload = request.model_dump(by_alias=True, exclude_none=True, mode="json")
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

    def receive_rpc_response(
        self, channel: str, rpc_id: str, response_type: type[ResponseT], timeout: float = 3
    ) -> ResponseT:
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

            raise RPCClient.TimeoutError(
                f"no response to RPC {channel} ({rpc_id}) within {timeout}s"
            ) from None
        entry._set_response(message["response"])
        result: ResponseT = entry.result(response_type)
        return result

    def rpc(
        self,
        channel: str,
        type: str,
        request: BaseModel | dict[str, Any] | None,
        response_type: type[ResponseT],
        timeout: float = 3,
        resource: str | None = None,
    ) -> ResponseT:
        """Call an RPC through the test client; returns the parsed response."""
        rpc_id = self.rpc_no_response(channel, type, request, resource=resource)
        return self.receive_rpc_response(channel, rpc_id, response_type, timeout)


def _shutdown_leftover_core(context: zmq.Context[Any]) -> None:
    """Shut down a core the test started on this broker and left running (a failed assertion skipped its
    ``shutdown_openmodule()``): its sockets would keep the broker's context from terminating, and the next
    test could not start a core."""
    from openmodule.core import core_or_none, shutdown_openmodule

    running = core_or_none()
    if running is None or running.context is not context:
        return
    warnings.warn(
        "the test left the openmodule core running: it was shut down before the test broker stopped "
        "(call shutdown_openmodule() in the test, e.g. in a finally or with addCleanup)",
        ResourceWarning,
        stacklevel=2,
    )
    shutdown_openmodule()


def _write_schema() -> None:
    # Imported at module level: handlers registered in the very first test are recorded too.
    Schema.to_file()


def _ping_model() -> type:
    from openmodule.models.base import ZMQMessage

    class TestPing(ZMQMessage):
        type: str = "ping"

    return TestPing


_TestPing = _ping_model()


# -- RPC helper of ZMQTestMixin --------------------------------------------------------------------------------
def _rpc_entry(channel: str, type: str, timeout: float, rpc_id: Any = None) -> Any:
    from openmodule.rpc import RPCEntry

    return RPCEntry(timeout, rpc_id, channel=channel, type=type)

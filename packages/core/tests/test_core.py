from __future__ import annotations

import signal
import threading
import time
import types
import warnings
from typing import Any

import pytest
import zmq

from openmodule.config import override_context
from openmodule.connection_status import ConnectionRPCResponse, ConnectionStatus
from openmodule.core import (
    OpenModuleCore,
    core,
    core_or_none,
    init_openmodule,
    shutdown_openmodule,
)
from openmodule.models.base import EmptyModel, ZMQMessage
from openmodule.rpc import RPCServer

pytestmark = pytest.mark.usefixtures("no_core_left")


class DemoMessage(ZMQMessage):
    type: str = "demo"
    value: int


def start(config: Any, **kwargs: Any) -> OpenModuleCore:
    kwargs.setdefault("sentry", False)
    kwargs.setdefault("dsgvo", False)
    kwargs.setdefault("logging", False)
    return init_openmodule(config, **kwargs)


def test_init_publish_receive_and_shutdown(configured: Any, bus: Any, om_wait_until: Any) -> None:
    instance = start(configured)
    assert core() is instance
    assert core_or_none() is instance
    assert (instance.config, instance.database) == (configured, None)
    assert isinstance(instance.context, zmq.Context)
    received: list[DemoMessage] = []
    instance.messages.register_handler("demo", DemoMessage, received.append, register_schema=False)
    bus.subscribe("demo_out")
    # the service's subscription travels to the broker asynchronously: repeat until it arrives
    om_wait_until(lambda: bus.publish(DemoMessage(value=7), "demo") or received, what="message in handler")
    assert received[0].value == 7

    def published() -> Any:
        # our own SUB's subscription travels to the broker asynchronously too: publish until one arrives
        instance.publish(DemoMessage(value=8), "demo_out")
        try:
            return bus.receive("demo_out", timeout=0.2)
        except AssertionError:
            return None

    assert om_wait_until(published, what="message on demo_out")["value"] == 8
    shutdown_openmodule()
    assert core_or_none() is None
    # as in the reference, core() is None once no core runs (services ask `if core() is not None`)
    assert core() is None
    assert [t for t in instance.threads() if t.is_alive()] == []
    assert instance.context.closed


def test_given_context_is_left_to_its_owner(configured: Any) -> None:
    context = zmq.Context()
    try:
        instance = start(configured, context=context)
        assert instance.context is context
        shutdown_openmodule()
        assert not context.closed
    finally:
        context.term()


def test_double_init_and_shutdown_without_init(configured: Any) -> None:
    with pytest.raises(AssertionError, match="not running"):
        shutdown_openmodule()
    start(configured)
    with pytest.raises(AssertionError, match="already running"):
        start(configured)
    shutdown_openmodule()
    with pytest.raises(AssertionError, match="not running"):
        shutdown_openmodule()


@pytest.mark.parametrize("missing", ["NAME", "RESOURCE", "VERSION", "DEBUG", "TESTING"])
def test_config_missing_required_setting(missing: str) -> None:
    values = dict(NAME="x", RESOURCE="r", VERSION="1", DEBUG=False, TESTING=True)
    del values[missing]
    with pytest.raises(AssertionError, match=missing):
        start(types.SimpleNamespace(**values))
    assert core_or_none() is None


def test_broker_not_reachable_times_out_and_cleans_up(configured: Any) -> None:
    import openmodule.core._core as core_module

    ctx = zmq.Context()
    dead = ctx.socket(zmq.REP)
    port = dead.bind_to_random_port("tcp://127.0.0.1")
    dead.close(0)
    ctx.term()
    with override_context(BROKER_SUB=f"tcp://127.0.0.1:{port}", BROKER_PUB=f"tcp://127.0.0.1:{port}"):
        original = core_module.BROKER_TIMEOUT
        core_module.BROKER_TIMEOUT = 0.3
        try:
            with pytest.raises(TimeoutError, match="broker"):
                start(configured)
        finally:
            core_module.BROKER_TIMEOUT = original
    assert core_or_none() is None


def test_health_pong_while_user_handler_blocks(configured: Any, bus: Any, om_wait_until: Any) -> None:
    instance = start(configured)
    release = threading.Event()
    entered = threading.Event()

    def block(_: DemoMessage) -> None:
        """Blocks the user dispatcher."""
        entered.set()
        release.wait(30)

    instance.messages.register_handler("demo", DemoMessage, block, register_schema=False)
    try:
        om_wait_until(
            lambda: bus.publish(DemoMessage(value=1), "demo") or entered.is_set(), what="blocked handler"
        )
        bus.subscribe("healthpong")
        pong = None
        deadline = time.monotonic() + 10
        while pong is None and time.monotonic() < deadline:
            bus.publish({"type": "ping", "name": "health_poller", "timestamp": time.time()}, "healthz")
            try:
                candidate = bus.receive("healthpong", timeout=0.5)
            except AssertionError:
                continue
            if candidate.get("name") == configured.NAME:
                pong = candidate
        assert pong is not None, "no pong while the user handler blocks"
        assert pong["pong"]["status"] == "ok"
    finally:
        release.set()
    shutdown_openmodule()


def test_rpc_and_connection_status_through_the_core(
    configured: Any, redis_key: str, om_wait_until: Any
) -> None:
    with override_context(REDIS_CONNECTION_STATUS_KEY=redis_key, REDIS_HOST="127.0.0.1"):
        instance = start(configured)
        server = RPCServer(instance.context, publish=instance.publish)

        def status(request: EmptyModel, message: Any) -> ConnectionRPCResponse:
            """Answers like the device's RPC client service."""
            return ConnectionRPCResponse(connected="online", bridge_status="online")

        server.register_handler(
            "connection", "status", EmptyModel, ConnectionRPCResponse, status, register_schema=False
        )
        server.run_as_thread()
        try:
            # the server's subscription travels to the broker asynchronously: wait until it answers
            def answered() -> bool:
                try:
                    instance.rpc_client.rpc(
                        "connection", "status", EmptyModel(), ConnectionRPCResponse, timeout=0.5
                    )
                    return True
                except TimeoutError:
                    return False

            om_wait_until(answered, what="rpc server")
            assert instance.connection_listener.get() == ConnectionStatus.online
            assert instance.connection_listener.get_bridge() == "online"
        finally:
            server.shutdown()
            shutdown_openmodule()


def test_connection_status_message_reaches_listener(
    configured: Any, bus: Any, om_wait_until: Any, redis_key: str
) -> None:
    import redis

    redis.Redis(host="127.0.0.1").set(redis_key, b"offline")
    with override_context(REDIS_CONNECTION_STATUS_KEY=redis_key, REDIS_HOST="127.0.0.1"):
        instance = start(configured)
        listener = instance.connection_listener
        assert listener.get() == "offline"
        message = {
            "type": "connection_status",
            "name": "rpc_client",
            "timestamp": time.time(),
            "connected": "startup",
        }
        om_wait_until(
            lambda: bus.publish(message, "connection_internal") or listener.get() == "startup",
            what="status from the bus",
        )
        assert listener.previous == "offline"
        shutdown_openmodule()


def test_dispatcher_max_threads_runs_handlers_concurrently(
    configured: Any, bus: Any, om_wait_until: Any
) -> None:
    instance = start(configured, dispatcher_max_threads=3)
    lock = threading.Lock()
    first_entered, met = threading.Event(), threading.Event()
    outcome: list[bool] = []

    def handler(message: DemoMessage) -> None:
        """The first call waits until a second one runs: only possible with concurrent handlers."""
        with lock:
            first = not first_entered.is_set()
            first_entered.set()
        if first:
            outcome.append(met.wait(10))
        else:
            met.set()

    instance.messages.register_handler("demo", DemoMessage, handler, register_schema=False)
    om_wait_until(
        lambda: bus.publish(DemoMessage(value=0), "demo") or first_entered.is_set(), what="first handler"
    )
    om_wait_until(lambda: bus.publish(DemoMessage(value=1), "demo") or outcome, what="second handler")
    assert outcome == [True]
    shutdown_openmodule()


def test_dispatcher_max_threads_pool_is_bounded_and_shutdown_drops_its_backlog(
    configured: Any, bus: Any, om_wait_until: Any
) -> None:
    # The pool of dispatcher_max_threads had an unbounded queue, and shutdown_openmodule ran its whole
    # backlog. Now it holds HANDLER_QUEUE_LIMIT calls (a setting) and the backlog is cancelled.
    configured.override(HANDLER_QUEUE_LIMIT=5)
    instance = start(configured, dispatcher_max_threads=2)
    assert instance.messages.queue_limit == 5
    release = threading.Event()
    started: list[int] = []

    def slow(message: DemoMessage) -> None:
        """Blocks until released."""
        started.append(message.value)
        release.wait(30)

    instance.messages.register_handler("demo", DemoMessage, slow, register_schema=False)
    om_wait_until(lambda: bus.publish(DemoMessage(value=-1), "demo") or started, what="first handler")
    for i in range(100):
        bus.publish(DemoMessage(value=i), "demo")
    om_wait_until(lambda: instance.messages.drops.snapshot().get("queue_full", 0) >= 90, what="dropped calls")
    assert instance.messages.queued == 5 and len(started) == 2

    def release_once_cancelled() -> None:
        # the running handlers end only once shutdown has cancelled the waiting calls
        try:
            om_wait_until(lambda: instance.messages.queued <= 2, what="the waiting calls cancelled")
        finally:
            release.set()

    releaser = threading.Thread(target=release_once_cancelled)
    releaser.start()
    shutdown_openmodule()  # in the main thread: it restores the SIGTERM handler
    releaser.join(20)
    assert len(started) == 2, "shutdown_openmodule worked through the backlog"


def test_readme_health_handler_reaches_the_pong(configured: Any, bus: Any) -> None:
    """init_openmodule(health_handler=f) as the README shows: its result is on the wire."""
    from openmodule.health import health_error

    def unhealthy() -> Any:
        return health_error("camera unreachable", meta={"camera": "cam_1"})

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the README's API does not warn
        instance = start(configured, health_handler=unhealthy)
    assert instance.health.health_handler is unhealthy
    bus.subscribe("healthpong")
    pong = None
    deadline = time.monotonic() + 10
    while pong is None and time.monotonic() < deadline:
        bus.publish({"type": "ping", "name": "health_poller", "timestamp": time.time()}, "healthz")
        try:
            candidate = bus.receive("healthpong", timeout=0.5)
        except AssertionError:
            continue
        if candidate.get("name") == configured.NAME:
            pong = candidate
    assert pong is not None, "no pong"
    assert pong["pong"]["status"] == "error"
    assert pong["pong"]["message"] == "camera unreachable"
    assert pong["pong"]["meta"] == {"camera": "cam_1"}
    shutdown_openmodule()


def test_core_hands_its_rpc_client_to_databox(configured: Any) -> None:
    from openmodule.utils.databox import get_default_rpc_client

    instance = start(configured)
    assert get_default_rpc_client() is instance.rpc_client
    shutdown_openmodule()
    assert get_default_rpc_client() is None


def test_core_is_registered_for_the_layers_below(configured: Any) -> None:
    from openmodule.messaging import NoRunningCore, running_core, running_core_or_none

    assert running_core_or_none() is None
    instance = start(configured)
    assert running_core() is instance
    shutdown_openmodule()
    assert running_core_or_none() is None
    with pytest.raises(NoRunningCore, match="send_event needs a running openmodule core"):
        running_core("send_event")


def test_sigterm_handler_installed_and_restored(configured: Any) -> None:
    before = signal.getsignal(signal.SIGTERM)
    start(configured)
    assert signal.getsignal(signal.SIGTERM) is not before
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)
    shutdown_openmodule()
    assert signal.getsignal(signal.SIGTERM) == before


def test_sentry_on_publishes_events_on_the_bus(configured: Any, bus: Any) -> None:
    import sentry_sdk

    start(configured, sentry=True)
    try:
        bus.subscribe("sentry")
        time.sleep(0)
        deadline = time.monotonic() + 10
        event = None
        while event is None and time.monotonic() < deadline:
            sentry_sdk.capture_message("hello from the core test")
            try:
                event = bus.receive("sentry", timeout=0.3)
            except AssertionError:
                pass
        assert event is not None
        assert (event["type"], event["name"]) == ("sentry", configured.NAME)
        assert event["event"]["message"] == "hello from the core test"
    finally:
        shutdown_openmodule()
    assert not sentry_sdk.get_client().is_active()


def test_shutdown_stops_what_the_core_built_even_if_tests_replaced_its_parts(configured: Any) -> None:
    # Unit tests put mocks into core.rpc_client / core.connection_listener; the core's own client and
    # listener (and every socket) must still be shut down, or the context can never terminate.
    context = zmq.Context()
    try:
        instance = start(configured, context=context)
        instance.rpc_client = types.SimpleNamespace()  # no shutdown() at all
        instance.connection_listener = types.SimpleNamespace()
        shutdown_openmodule()
        assert core_or_none() is None
        assert [t for t in instance.threads() if t.is_alive()] == []
        assert instance.publisher.closed
        terminator = threading.Thread(target=context.term, daemon=True)
        terminator.start()
        terminator.join(10)
        assert not terminator.is_alive(), "a socket of the core is still open"
    finally:
        if not context.closed:
            context.destroy(0)


def test_a_failing_shutdown_step_does_not_keep_the_others_from_running(
    configured: Any, caplog: pytest.LogCaptureFixture
) -> None:
    instance = start(configured)

    def broken() -> None:
        raise RuntimeError("listener shutdown broke")

    instance._own_connection_listener.shutdown = broken
    with caplog.at_level("ERROR", logger="openmodule.core"):
        shutdown_openmodule()
    assert "listener shutdown broke" in caplog.text
    assert core_or_none() is None
    assert instance.publisher.closed and instance.context.closed
    start(configured)  # the next init works
    shutdown_openmodule()


def test_sentry_left_off_in_testing_is_logged(configured: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="openmodule.core"):
        start(configured, sentry=None)
    shutdown_openmodule()
    assert "not activating sentry" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="openmodule.core"):
        start(configured, sentry=False)
    shutdown_openmodule()
    assert "not activating sentry" not in caplog.text


def test_a_failing_init_leaves_nothing_behind(configured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import openmodule.sentry

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("sentry could not start")

    monkeypatch.setattr(openmodule.sentry, "init_sentry", broken)
    context = zmq.Context()
    try:
        with pytest.raises(RuntimeError, match="sentry could not start"):
            start(configured, sentry=True, context=context)
        assert core_or_none() is None
        terminator = threading.Thread(target=context.term, daemon=True)
        terminator.start()
        terminator.join(10)
        assert not terminator.is_alive(), "the failed init left a socket open"
    finally:
        if not context.closed:
            context.destroy(0)
    start(configured)  # the next init works
    shutdown_openmodule()

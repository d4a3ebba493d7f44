from __future__ import annotations

import threading
import types
from typing import Any

import pytest

from openmodule.connection_status import (
    TIMEOUT,
    BridgeStatus,
    ConnectionRPCResponse,
    ConnectionStatus,
    ConnectionStatusListener,
    parse_redis_status,
)
from openmodule.dispatcher import MessageDispatcher


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class StubRPC:
    """Answers the connection/status RPC like the device's RPC client service (or fails)."""

    def __init__(self, answer: ConnectionRPCResponse | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    def rpc(self, channel: str, type: str, request: Any, response_type: Any, timeout: Any = None) -> Any:
        self.calls.append((channel, type))
        if isinstance(self.answer, Exception):
            raise self.answer
        return response_type.model_validate(self.answer.model_dump())


def redis_config(key: str, **overrides: Any) -> Any:
    values = dict(
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=6379,
        REDIS_DB=0,
        REDIS_PASSWORD=None,
        REDIS_CONNECTION_STATUS_KEY=key,
    )
    values.update(overrides)
    return types.SimpleNamespace(**values)


def make(
    answer: Any = None,
    *,
    key: str = "unused",
    clock: FakeClock | None = None,
    redis: bool = False,
    **config: Any,
) -> tuple[ConnectionStatusListener, MessageDispatcher, StubRPC | None, FakeClock]:
    clock = clock or FakeClock()
    dispatcher = MessageDispatcher()
    rpc = StubRPC(answer) if answer is not None else None
    listener = ConnectionStatusListener(
        dispatcher, rpc, config=redis_config(key, **config), use_redis=redis, time_func=clock
    )
    return listener, dispatcher, rpc, clock


def send(dispatcher: MessageDispatcher, connected: str, bridge: str | None = None) -> None:
    message: dict[str, Any] = {
        "type": "connection_status",
        "name": "rpc_client",
        "timestamp": 1.0,
        "connected": connected,
    }
    if bridge is not None:
        message["bridge_status"] = bridge
    dispatcher.dispatch("connection_internal", message)


def test_initial_status_from_rpc() -> None:
    listener, _, rpc, _ = make(ConnectionRPCResponse(connected="online", bridge_status="offline"))
    assert listener.get() == ConnectionStatus.online
    assert listener.get() == "online"  # str enum, as in 18.x
    assert listener.get_bridge() == BridgeStatus.offline
    assert listener.previous == ConnectionStatus.shutdown
    assert rpc is not None and rpc.calls == [("connection", "status")]


def test_rpc_failure_means_shutdown() -> None:
    listener, _, rpc, _ = make(TimeoutError("no answer"))
    assert listener.get() == ConnectionStatus.shutdown
    assert listener.previous == ConnectionStatus.shutdown
    assert listener.get_bridge() is None
    assert rpc is not None and len(rpc.calls) == 1  # cached: no second RPC


def test_no_rpc_client_means_shutdown() -> None:
    listener, _, _, _ = make()
    assert listener.get() == ConnectionStatus.shutdown


def test_messages_change_status_and_previous() -> None:
    listener, dispatcher, _, clock = make(ConnectionRPCResponse(connected="offline"))
    assert listener.get() == "offline"
    clock.now += 5
    send(dispatcher, "startup", "online")
    assert (listener.get(), listener.previous) == ("startup", "offline")
    assert (listener.get_bridge(), listener.previous_bridge) == ("online", None)
    assert listener.last_changed_time == clock.now
    changed_at = clock.now
    clock.now += 5
    send(dispatcher, "startup")  # same status, no bridge: no change, bridge kept
    assert listener.get_bridge() == "online"
    assert listener.last_changed_time == changed_at
    send(dispatcher, "startup", "offline")  # bridge alone is a change
    assert (listener.get(), listener.previous) == ("startup", "startup")
    assert (listener.get_bridge(), listener.previous_bridge) == ("offline", "online")


def test_first_message_before_any_get_skips_the_rpc() -> None:
    listener, dispatcher, rpc, _ = make(ConnectionRPCResponse(connected="offline"))
    send(dispatcher, "online")
    assert listener.get() == "online"
    assert listener.previous == "shutdown"
    assert rpc is not None and rpc.calls == []


def test_timeout_to_shutdown_after_60s_without_messages() -> None:
    listener, dispatcher, _, clock = make(ConnectionRPCResponse(connected="online"))
    assert listener.get() == "online"
    clock.now += TIMEOUT - 1
    send(dispatcher, "online")  # refreshes the timer
    clock.now += TIMEOUT
    assert listener.get() == "online"
    clock.now += 1.5
    assert listener.get() == "shutdown"
    assert listener.previous == "online"


@pytest.mark.parametrize("status", ["offline", "shutdown"])
def test_timeout_never_leaves_offline_or_shutdown(status: str) -> None:
    listener, dispatcher, _, clock = make(ConnectionRPCResponse(connected="online"))
    send(dispatcher, status)
    clock.now += 10 * TIMEOUT
    assert listener.get() == status


def test_offline_only_by_message() -> None:
    listener, dispatcher, _, clock = make(ConnectionRPCResponse(connected="startup"))
    assert listener.get() == "startup"
    clock.now += 2 * TIMEOUT
    assert listener.get() == "shutdown"  # a timeout ends in shutdown, never offline
    send(dispatcher, "offline")
    assert listener.get() == "offline"


def test_changed_per_id() -> None:
    listener, dispatcher, _, _ = make(ConnectionRPCResponse(connected="online"))
    assert listener.changed("a") is True
    assert listener.changed("a") is False
    assert listener.changed("b") is True
    send(dispatcher, "online")  # no change
    assert listener.changed("a") is False
    send(dispatcher, "shutdown")
    assert listener.changed("a") is True
    assert listener.changed("b") is True
    assert listener.changed("a") is False


def test_wait_for_change() -> None:
    listener, dispatcher, _, _ = make(ConnectionRPCResponse(connected="online"))
    listener.get()
    assert listener.wait_for_change(timeout=0.05) is False
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(listener.wait_for_change(timeout=10)))
    waiter.start()
    # keep sending the change-triggering message until the waiter has seen it
    send(dispatcher, "online")
    while waiter.is_alive() and not result:
        send(dispatcher, "offline" if listener.get() == "online" else "online")
        waiter.join(0.01)
    waiter.join(10)
    assert result == [True]


def test_wait_for_change_wakes_on_the_timeout() -> None:
    # A quiet bus still ends in shutdown: the waiter evaluates the 60 s rule itself.
    listener, _, _, clock = make(ConnectionRPCResponse(connected="online"))
    listener.get()
    clock.now += TIMEOUT + 1
    assert listener.wait_for_change(timeout=5) is True
    assert listener.get() == "shutdown"


def test_invalid_message_is_dropped() -> None:
    listener, dispatcher, _, _ = make(ConnectionRPCResponse(connected="online"))
    listener.get()
    send(dispatcher, "sideways")
    assert listener.get() == "online"


def test_shutdown_unregisters() -> None:
    listener, dispatcher, _, _ = make(ConnectionRPCResponse(connected="online"))
    listener.get()
    listener.shutdown()
    send(dispatcher, "offline")
    assert listener.get() == "online"


# -- redis -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"connected": "online", "bridge_status": "offline"}', ("online", "offline")),
        (b'{"connected": "startup"}', ("startup", None)),
        (b"offline", ("offline", None)),
        (b'"shutdown"', ("shutdown", None)),
        ("online", ("online", None)),
        (b"garbage", None),
        (b'{"connected": 5}', None),
        (b"[1, 2]", None),
        (b"\xff\xfe", None),
    ],
)
def test_parse_redis_status(raw: Any, expected: Any) -> None:
    parsed = parse_redis_status(raw)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.connected, parsed.bridge_status) == expected


def test_initial_status_from_redis(redis_key: str) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379).set(
        redis_key, b'{"connected": "startup", "bridge_status": "online"}'
    )
    listener, _, rpc, _ = make(ConnectionRPCResponse(connected="offline"), key=redis_key, redis=True)
    assert listener.get() == "startup"
    assert listener.get_bridge() == "online"
    assert rpc is not None and rpc.calls == []


def test_missing_redis_key_falls_back_to_rpc(redis_key: str) -> None:
    listener, _, rpc, _ = make(ConnectionRPCResponse(connected="offline"), key=redis_key, redis=True)
    assert listener.get() == "offline"
    assert rpc is not None and rpc.calls == [("connection", "status")]


def test_garbage_in_redis_falls_back_to_rpc(redis_key: str) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379).set(redis_key, b"\x00not a status")
    listener, _, rpc, _ = make(ConnectionRPCResponse(connected="online"), key=redis_key, redis=True)
    assert listener.get() == "online"
    assert rpc is not None and rpc.calls == [("connection", "status")]


def test_redis_down_falls_back_to_rpc(redis_key: str) -> None:
    # port 1 on loopback: connection refused at once
    listener, _, rpc, _ = make(
        ConnectionRPCResponse(connected="online"), key=redis_key, redis=True, REDIS_PORT=1
    )
    assert listener.get() == "online"
    assert rpc is not None and rpc.calls == [("connection", "status")]


def test_redis_down_and_rpc_failing_means_shutdown(redis_key: str) -> None:
    listener, _, _, _ = make(TimeoutError("x"), key=redis_key, redis=True, REDIS_PORT=1)
    assert listener.get() == "shutdown"


def test_rpc_not_attempted_on_forbidden_thread() -> None:
    rpc = StubRPC(ConnectionRPCResponse(connected="online"))
    listener = ConnectionStatusListener(
        None, rpc, config=redis_config("x"), use_redis=False, rpc_forbidden=lambda: True
    )
    assert listener.get() == "shutdown"
    assert rpc.calls == []


def test_set_hook_changes_status_and_wakes_watchers() -> None:
    listener, _, _, _ = make()
    assert listener.changed("watcher") is True
    listener._set(ConnectionStatus.startup)
    assert (listener.get(), listener.previous) == ("startup", "shutdown")
    assert listener.changed("watcher") is True and listener.changed("watcher") is False
    listener._set("offline")
    assert (listener.get(), listener.previous) == ("offline", "startup")


def test_current_and_previous_status_objects_and_set() -> None:
    # Service test suites read listener._status / _previous_status (.connected, .bridge_status) and
    # drive the listener with _set(status) as a message would.
    listener, _, rpc, clock = make(ConnectionRPCResponse(connected="online", bridge_status="online"))
    listener.get()
    assert (listener._status.connected, listener._status.bridge_status) == ("online", "online")
    assert (listener._previous_status.connected, listener._previous_status.bridge_status) == (
        "shutdown",
        None,
    )
    clock.now += TIMEOUT + 1
    listener.check_timeout()
    assert (listener._status.connected, listener._previous_status.connected) == ("shutdown", "online")
    listener._set(ConnectionStatus.online)  # reported again: the 60 s count starts anew
    assert (listener._status.connected, listener._previous_status.connected) == ("online", "shutdown")
    clock.now += TIMEOUT - 1
    assert listener.get() == "online"
    listener._set(ConnectionStatus.offline)
    clock.now += 10 * TIMEOUT
    assert (listener.get(), listener.previous) == ("offline", "online")
    assert rpc is not None and len(rpc.calls) == 1


def test_set_before_the_first_get_is_the_start_value() -> None:
    listener, _, rpc, _ = make(ConnectionRPCResponse(connected="offline"))
    listener._set(ConnectionStatus.online)
    assert (listener.get(), listener.previous) == ("online", "shutdown")
    assert rpc is not None and rpc.calls == []


def test_default_clock_follows_a_patched_time_function(monkeypatch: pytest.MonkeyPatch) -> None:
    # Time-freezing test tools replace time.time in the module: the listener must read it at each call.
    import time

    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    listener = ConnectionStatusListener(
        MessageDispatcher(),
        StubRPC(ConnectionRPCResponse(connected="online")),
        config=redis_config("x"),
        use_redis=False,
    )
    assert listener.get() == "online"
    now[0] += TIMEOUT + 1
    assert (listener.get(), listener.previous) == ("shutdown", "online")

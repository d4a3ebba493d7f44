from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import pytest
import zmq

from openmodule.dispatcher import (
    DummyExecutor,
    EventListener,
    MessageDispatcher,
    SubscribingMessageDispatcher,
    schema_recorder,
    set_schema_recorder,
)
from openmodule.models.base import ZMQMessage


class Demo(ZMQMessage):
    type: str = "demo"
    value: int


def demo(value: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"timestamp": 0, "name": "svc", "type": "demo", "value": value, **extra}


def test_exact_topic_type_and_order() -> None:
    d = MessageDispatcher()
    got: list[tuple[str, int]] = []
    d.register_handler("abc", Demo, lambda m: got.append(("first", m.value)))
    d.register("abc", Demo, lambda m: got.append(("second", m.value)))
    d.dispatch("abcd", demo(9))
    d.dispatch("abc", {**demo(8), "type": "other"})
    d.dispatch("abc", demo(1))
    d.dispatch("abc", Demo(value=2, name="x"))
    assert got == [("first", 1), ("second", 1), ("first", 2), ("second", 2)]


def test_match_type_requires_a_type_default() -> None:
    d = MessageDispatcher()
    with pytest.raises(
        AssertionError, match="class definition does not set a `type` field.*match_type=False"
    ):
        d.register_handler("t", ZMQMessage, print)
    got: list[str] = []
    d.register_handler("t", ZMQMessage, lambda m: got.append(m.type), match_type=False)
    d.dispatch("t", demo())
    d.dispatch("t", {**demo(), "type": "other"})
    assert got == ["demo", "other"]
    with pytest.raises(AssertionError, match="str"):
        d.register_handler(b"t", Demo, print)  # type: ignore[arg-type]


def test_filters_callable_dict_and_filter_underscore() -> None:
    d = MessageDispatcher()
    got: list[str] = []
    d.register_handler("t", Demo, lambda m: got.append("call"), filter=lambda raw: raw["value"] == 2)
    d.register_handler("t", Demo, lambda m: got.append("dict"), filter={"value": 3, "name": "svc"})
    d.register_handler("t", Demo, lambda m: got.append("kw"), filter_={"value": 2})
    for value in (1, 2, 3):
        d.dispatch("t", demo(value))
    assert got == ["call", "kw", "dict"]


def test_subscriptions_are_counted_and_empty_topics_removed() -> None:
    calls: list[tuple[str, str]] = []
    d = SubscribingMessageDispatcher(
        lambda t: calls.append(("sub", t)), unsubscribe=lambda t: calls.append(("unsub", t))
    )
    a = d.register_handler("t", Demo, print)
    b = d.register_handler("t", Demo, print)
    c = d.register_handler("u", Demo, print)
    d.unregister_handler(a)
    assert calls == [("sub", "t"), ("sub", "u")]
    d.unregister_handler(b)
    d.unregister_handler(b)  # twice is harmless
    d.unregister_handler(c)
    assert calls == [("sub", "t"), ("sub", "u"), ("unsub", "t"), ("unsub", "u")]
    assert d.topics == []


def test_bad_messages_and_handler_errors_are_counted_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    d = MessageDispatcher()
    got: list[int] = []

    def handler(m: Demo) -> None:
        if m.value == 0:
            raise ValueError("boom")
        got.append(m.value)

    d.register_handler("t", Demo, handler)
    with caplog.at_level("ERROR"):
        d.dispatch("t", demo("not a number"))
        d.dispatch("t", demo(0))
    d.dispatch("t", demo(5))
    assert got == [5]
    assert d.drops.snapshot() == {"validation_error": 1, "handler_error": 1}
    # each log line says what went wrong in words a reader searches for
    assert "validation error: invalid message for Demo" in caplog.records[0].getMessage()
    assert "ValueError('boom')" in caplog.records[1].getMessage()


def test_raise_flags() -> None:
    d = MessageDispatcher(raise_validation_errors=True, raise_handler_errors=True)
    d.register_handler("t", Demo, lambda m: 1 / 0)
    with pytest.raises(ValueError):
        d.dispatch("t", demo("x"))
    with pytest.raises(ZeroDivisionError):
        d.dispatch("t", demo(1))
    with pytest.raises(AssertionError):
        MessageDispatcher(raise_handler_errors=True, executor=ThreadPoolExecutor(1))


def test_context_terminated_propagates() -> None:
    d = MessageDispatcher()

    def handler(m: Demo) -> None:
        raise zmq.ContextTerminated()

    d.register_handler("t", Demo, handler)
    with pytest.raises(zmq.ContextTerminated):
        d.dispatch("t", demo())


def test_executors_and_shutdown() -> None:
    assert MessageDispatcher().is_multi_threaded is False
    assert MessageDispatcher(executor=ThreadPoolExecutor(1)).is_multi_threaded is False
    assert MessageDispatcher(executor=ProcessPoolExecutor(1)).is_multi_threaded is False
    assert MessageDispatcher(executor=ProcessPoolExecutor(2)).is_multi_threaded is True
    assert MessageDispatcher(executor=object()).is_multi_threaded is True  # unknown: assume parallel
    pool = ThreadPoolExecutor(4)
    d = MessageDispatcher(executor=pool)
    assert d.is_multi_threaded is True
    got: list[int] = []
    d.register_handler("t", Demo, lambda m: got.append(m.value))
    for i in range(20):
        d.dispatch("t", demo(i))
    deadline = time.monotonic() + 10
    while d.queued:  # shutdown cancels what has not started: wait for the pool first
        assert time.monotonic() < deadline, "the pool did not work through 20 calls"
        time.sleep(0.005)
    d.shutdown(wait=True)
    assert sorted(got) == list(range(20))
    d.dispatch("t", demo(99))  # dropped after shutdown, no exception
    assert 99 not in got

    dummy = DummyExecutor()
    assert dummy.submit(lambda: 5).result() == 5
    dummy.shutdown()
    with pytest.raises(RuntimeError):
        dummy.submit(lambda: 5)


def test_event_listener() -> None:
    got: list[Any] = []

    def bad(*args: Any) -> None:
        raise ValueError("x")

    listener: EventListener[int, str] = EventListener(lambda *a: got.append(a), bad)
    listener.append(lambda *a: got.append("after"))
    listener(1, "a")
    assert got == [(1, "a"), "after"]
    with pytest.raises(ValueError):
        EventListener(bad, raise_exceptions=True)(1)

    d = MessageDispatcher()
    received = EventListener()
    received.append(lambda m: got.append(m.value))
    handle = d.register_handler("t", Demo, received)
    d.dispatch("t", demo(7))
    assert got[-1] == 7
    d.unregister_handler(handle)
    assert d.topics == []


class _Recorder:
    """A SchemaRecorder that remembers what reached it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, type, object]] = []

    def save_message(self, topic: str, message_class: type, handler: Any, filter: object = None, /) -> None:
        self.messages.append((topic, message_class, filter))

    def save_rpc(self, *args: Any) -> None:
        raise AssertionError("the dispatcher records no RPC")


@pytest.fixture
def recorder() -> Any:
    previous = schema_recorder()
    installed = _Recorder()
    set_schema_recorder(installed)
    yield installed
    set_schema_recorder(previous)


def test_schema_recorder_only_in_testing(recorder: _Recorder) -> None:
    from openmodule.config import settings

    recorded = recorder.messages

    def handler(m: Demo) -> None:
        """Documented handler."""

    settings.configure(type("S", (), {"TESTING": False})())
    MessageDispatcher().register_handler("a", Demo, handler)
    settings.reset()
    settings.configure(type("S", (), {"TESTING": True})())
    d = MessageDispatcher()
    d.register_handler("b", Demo, handler, filter={"gate": "in"})
    d.register_handler("c", Demo, handler, register_schema=False)
    d.register_handler("d", dict, handler, match_type=False)  # a raw dict has no schema
    assert recorded == [("b", Demo, {"gate": "in"})]
    settings.reset()


def test_without_a_recorder_nothing_is_recorded_and_nothing_fails() -> None:
    from openmodule.config import settings

    previous = schema_recorder()
    set_schema_recorder(None)
    try:
        settings.configure(type("S", (), {"TESTING": True})())
        MessageDispatcher().register_handler("a", Demo, lambda m: None)  # undocumented: only a recorder asks
    finally:
        set_schema_recorder(previous)
        settings.reset()


def test_model_validate_overrides_are_honoured_and_plain_classes_validate_directly() -> None:
    from openmodule.models.base import ZMQMessage

    class Plain(ZMQMessage):
        type: str = "plain"
        value: int

    class Hooked(Plain):
        @classmethod
        def model_validate(cls, obj, **kwargs):  # type: ignore[no-untyped-def, override]
            return super().model_validate({**obj, "value": int(obj["value"]) * 10}, **kwargs)

    got: list[tuple[str, int]] = []
    dispatcher = MessageDispatcher()
    plain = dispatcher.register_handler("t", Plain, lambda m: got.append(("plain", m.value)))
    hooked = dispatcher.register_handler("t", Hooked, lambda m: got.append(("hooked", m.value)))
    assert plain.direct_validate and not hooked.direct_validate
    dispatcher.dispatch("t", {"type": "plain", "name": "n", "timestamp": 0, "value": "2"})
    assert got == [("plain", 2), ("hooked", 20)]
    dispatcher.unregister_handler(hooked)
    dispatcher.dispatch("t", {"type": "plain", "name": "n", "timestamp": 0, "value": "x"})
    assert got == [("plain", 2), ("hooked", 20)]
    assert dispatcher.drops.snapshot() == {"validation_error": 1}


def test_dict_listener_gets_the_received_dict_unvalidated() -> None:
    dispatcher = MessageDispatcher(raise_validation_errors=True)
    got: list[object] = []
    dispatcher.register_handler("raw", dict, got.append, match_type=False)
    message = {"anything": [1, 2], "type": 5}
    dispatcher.dispatch("raw", message)
    assert got == [message] and got[0] is message
    with pytest.raises(AssertionError, match="match_type=False"):
        dispatcher.register_handler("raw", dict, got.append)


def test_bounded_executor_counts_cancels_and_allows_an_inline_executor_to_submit_again() -> None:
    import threading

    from openmodule.dispatcher import BoundedExecutor, QueueFullError

    release = threading.Event()
    pool = BoundedExecutor(ThreadPoolExecutor(1), limit=3)
    futures = [pool.submit(release.wait, 10) for _ in range(3)]
    assert pool.pending == 3
    with pytest.raises(QueueFullError, match="limit 3"):
        pool.submit(release.wait, 10)
    pool.shutdown(wait=False, cancel_futures=True)  # the two waiting calls never run
    release.set()
    assert futures[0].result(10) is True
    assert futures[1].cancelled() and futures[2].cancelled()
    assert pool.pending == 0

    # an executor that runs calls at once (in the submitting thread) may be re-entered
    inline = BoundedExecutor(DummyExecutor(), limit=2)
    assert inline.submit(lambda: inline.submit(lambda: 7).result()).result() == 7
    assert inline.pending == 0

"""The bus limits: the largest frame a SUB socket accepts, and bounded executor queues."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.dispatcher import DEFAULT_QUEUE_LIMIT, handler_queue_limit
from openmodule.messaging import (
    DEFAULT_MAX_MESSAGE_SIZE,
    MessageLoop,
    Publisher,
    max_message_size,
    wait_for_connection,
)
from openmodule.models.base import ZMQMessage


class Padded(ZMQMessage):
    type: str = "padded"
    i: int = 0
    padding: str = ""


def test_max_message_size_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAX_MESSAGE_SIZE", raising=False)
    assert max_message_size(SimpleNamespace()) == DEFAULT_MAX_MESSAGE_SIZE == 4 * 1024 * 1024
    assert max_message_size(SimpleNamespace(MAX_MESSAGE_SIZE=1000)) == 1000
    assert max_message_size(SimpleNamespace(MAX_MESSAGE_SIZE=0)) == -1  # no limit
    monkeypatch.setenv("MAX_MESSAGE_SIZE", "12345")
    assert max_message_size(SimpleNamespace()) == 12345


@pytest.fixture
def own_broker() -> Iterator[BrokerProcess]:
    """A broker of this test only (one test restarts it)."""
    with BrokerProcess() as handle:
        yield handle


@pytest.fixture
def limited(om_zmq_context: zmq.Context, own_broker: BrokerProcess) -> Iterator[SimpleNamespace]:
    config = SimpleNamespace(
        NAME="limits",
        BROKER_SUB=own_broker.sub_endpoint,
        BROKER_PUB=own_broker.pub_endpoint,
        MAX_MESSAGE_SIZE=2000,
    )
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="limited").start()
    wait_for_connection(publisher, loop, timeout=10)
    yield SimpleNamespace(publisher=publisher, loop=loop, broker=own_broker)
    loop.stop()
    publisher.close(0)


def _deliver_until(publisher: Publisher, got: list[int], first: int, timeout: float = 10.0) -> int:
    """Publish small messages numbered from ``first`` until one arrives; returns the number that did."""
    deadline = time.monotonic() + timeout
    i = first
    while True:
        publisher.publish(Padded(i=i), "padded")
        time.sleep(0.01)
        arrived = [n for n in got if n >= first]
        if arrived:
            return arrived[0]
        assert time.monotonic() < deadline, "no message arrives any more: the socket stayed disconnected"
        i += 1


def test_a_frame_above_the_limit_is_refused_and_the_loop_connects_again(limited: SimpleNamespace) -> None:
    # Without the limit a 50 MB frame is read into memory whole (twenty of them took a service from 36 to
    # 983 MB). With it ZeroMQ refuses the frame before allocating it, but also drops the connection and never
    # makes it again: the loop must do that, or the service would hear nothing more. What was sent before
    # the oversized frame still arrives.
    got: list[int] = []
    limited.loop.dispatcher.register_handler("padded", Padded, lambda m: got.append(m.i))
    wait_for_connection(limited.publisher, limited.loop, timeout=10)
    # Many rounds, each with a message right before the oversized frame: connecting again while a poll had
    # read that message's first frame ahead made ZeroMQ abort the process (assertion !_more).
    before: list[int] = []
    for round_ in range(1, 21):
        before.append(100 * round_ - 1)
        limited.publisher.publish(Padded(i=before[-1]), "padded")
        limited.publisher.publish(Padded(i=-1, padding="x" * 5000), "padded")  # above 2000 bytes
        _deliver_until(limited.publisher, got, 100 * round_)
    assert -1 not in got
    assert [n for n in got if n in before] == before
    assert limited.loop.drops.get("oversized_frame", 0) >= 1
    assert limited.loop.link.reconnects == limited.loop.drops["oversized_frame"]


def test_a_broker_restart_is_left_to_zeromq_and_not_counted(limited: SimpleNamespace) -> None:
    got: list[int] = []
    limited.loop.dispatcher.register_handler("padded", Padded, lambda m: got.append(m.i))
    _deliver_until(limited.publisher, got, 1)
    limited.broker.kill()
    limited.broker.start()
    _deliver_until(limited.publisher, got, 1000)
    assert "oversized_frame" not in limited.loop.drops
    assert limited.loop.link.reconnects == 0


def test_handler_queue_limit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDLER_QUEUE_LIMIT", raising=False)
    assert handler_queue_limit(SimpleNamespace()) == DEFAULT_QUEUE_LIMIT == 1000
    assert handler_queue_limit(SimpleNamespace(HANDLER_QUEUE_LIMIT=7)) == 7
    assert handler_queue_limit(SimpleNamespace(HANDLER_QUEUE_LIMIT=0)) == 0  # no limit
    monkeypatch.setenv("HANDLER_QUEUE_LIMIT", "55")
    assert handler_queue_limit(SimpleNamespace()) == 55


def _wait(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_a_pool_queue_is_bounded_and_its_backlog_is_cancelled_on_stop(
    om_zmq_context: zmq.Context, own_broker: BrokerProcess
) -> None:
    # dispatcher_max_threads > 1 gave the loop an unbounded pool queue: a flood queued 228,000 calls
    # (700 MB), and stopping then ran the whole backlog. Now the pool holds HANDLER_QUEUE_LIMIT calls, the
    # rest is counted and dropped, and a stop cancels what has not started.
    config = SimpleNamespace(
        NAME="pool",
        BROKER_SUB=own_broker.sub_endpoint,
        BROKER_PUB=own_broker.pub_endpoint,
        HANDLER_QUEUE_LIMIT=10,
    )
    release = threading.Event()
    started: list[int] = []

    def slow(message: Padded) -> None:
        started.append(message.i)
        release.wait(30)

    pool = ThreadPoolExecutor(2, thread_name_prefix="limits-pool")
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="pool", executor=pool).start()
    try:
        loop.dispatcher.register_handler("padded", Padded, slow)
        wait_for_connection(publisher, loop, timeout=10)
        for i in range(200):
            publisher.publish(Padded(i=i), "padded")
        _wait(lambda: loop.drops.get("queue_full", 0) == 190, "190 dropped calls")
        assert loop.dispatcher.queued == 10  # 2 running, 8 waiting
        assert len(started) == 2
        loop.stop()
    finally:
        release.set()
        publisher.close(0)
    pool.shutdown(wait=True)  # what the core does after stopping the loop
    assert len(started) == 2, "the stopped loop's pool worked through its backlog"

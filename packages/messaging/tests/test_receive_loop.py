"""ReceiveLoop: the one SUB-socket serving loop under MessageLoop and RPCServer."""

from __future__ import annotations

import threading
from typing import Any

import zmq

from openmodule.messaging import Publisher, ReceiveLoop
from openmodule.models.base import ZMQMessage


class Ping(ZMQMessage):
    type: str = "ping"
    n: int = 0


def test_serves_subscriptions_made_from_other_threads_in_its_own_thread(
    om_zmq_context, config, om_wait_until
) -> None:
    received: list[tuple[str, int, str]] = []
    calls: list[str] = []
    loop = ReceiveLoop(
        om_zmq_context,
        config,
        lambda topic, message: received.append((topic, message["n"], threading.current_thread().name)),
        name="receive-test",
        wanted=lambda topic: topic == "rl-a",  # "rl-ab" arrives through the prefix subscription: skipped
        on_start=lambda: calls.append("start"),
        after_drain=lambda: calls.append("drained"),
        on_end=lambda: calls.append("end"),
    )
    publisher = Publisher(om_zmq_context, config)
    thread = loop.start()
    assert thread.name == "openmodule-receive-test" and loop.running
    threading.Thread(target=loop.subscribe, args=("rl-a",)).start()

    def delivered() -> bool:
        publisher.publish(Ping(n=0), "rl-ab")
        publisher.publish(Ping(n=1), "rl-a")
        return bool(received)

    om_wait_until(delivered, what="a message through the subscription made from another thread")
    assert {topic for topic, _, _ in received} == {"rl-a"}
    assert {name for _, _, name in received} == {"openmodule-receive-test"}
    loop.unsubscribe("rl-a")
    loop.stop()
    assert not loop.running and loop.socket.closed
    assert calls[0] == "start" and "drained" in calls and calls[-1] == "end"
    loop.subscribe("late")  # after the close: nothing to wake, no error
    publisher.close(0)


def test_a_loop_that_never_ran_closes_on_stop(om_zmq_context, config) -> None:
    loop = ReceiveLoop(om_zmq_context, config, lambda topic, message: None, name="never-run")
    loop.stop()
    assert loop.socket.closed and loop.thread is None
    loop.stop()  # twice is fine


def test_context_termination_ends_the_loop_and_calls_the_hook(config, om_wait_until) -> None:
    context: zmq.Context[Any] = zmq.Context()
    terminated = threading.Event()
    loop = ReceiveLoop(
        context,
        config,
        lambda topic, message: None,
        name="terminated",
        on_context_terminated=terminated.set,
    )
    loop.start()
    om_wait_until(lambda: loop.running, what="the loop thread")
    context.term()  # blocks until the loop closed its socket
    assert terminated.is_set() and loop.socket.closed
    om_wait_until(lambda: not loop.running, what="the loop thread to end")

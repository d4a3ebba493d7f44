"""The test broker and test client: every socket stays with the thread that owns it, shutdown never aborts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import zmq

from openmodule.fixtures import wait_until
from openmodule.models.base import ZMQMessage
from openmodule_test.utils import DeveloperError
from openmodule_test.zeromq import (
    TestBroker,
    TestClient,
    TestClientStopped,
    free_tcp_port,
    patch_bind_string,
)


class Greeting(ZMQMessage):
    type: str = "greeting"
    text: str


@pytest.fixture
def broker():
    broker = TestBroker(f"tcp://*:{free_tcp_port()}", f"tcp://*:{free_tcp_port()}")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def client(broker):
    client = TestClient(broker)
    client.start()
    yield client
    client.stop()


def test_bind_strings_with_a_wildcard_host_become_loopback_addresses():
    assert patch_bind_string("tcp://*:10100") == "tcp://127.0.0.1:10100"
    for unchanged in ("tcp://0.0.0.0:10100", "tcp://127.0.0.1:5", "inproc://x", "ipc:///tmp/x"):
        assert patch_bind_string(unchanged) == unchanged


def test_client_of_a_wildcard_bound_broker_round_trips(client):
    client.subscribe("greet")
    client.send("greet", Greeting(text="hi"))
    message = client.wait_for_message_on_topic("greet")
    assert (message["type"], message["text"]) == ("greeting", "hi")
    client.send("greet", type="plain")
    assert client.wait_for_message_on_topic("greet")["name"] == "testcase"


def test_second_client_keeps_working_after_the_first_stopped(broker, client):
    other = TestClient(broker)
    other.start()
    other.stop()
    assert not other.is_alive()
    client.subscribe("t")
    client.send("t", type="x", n=1)
    assert client.wait_for_message_on_topic("t")["n"] == 1


def test_waiting_from_two_threads_at_once_is_refused(client):
    client.subscribe("t")
    errors: list[str] = []
    inside = threading.Event()

    def filter_(topic, message):
        inside.set()
        time.sleep(0.3)  # keep the first waiter busy while the second one arrives
        return True

    client.send("t", type="x")
    first = threading.Thread(target=lambda: client.wait_for_message(filter_))
    first.start()
    inside.wait(5)
    try:
        client.wait_for_message_on_topic("t", timeout=0.1)
    except DeveloperError as exc:
        errors.append(str(exc))
    first.join()
    assert len(errors) == 1 and "not thread safe" in errors[0]


def test_sends_from_many_threads_all_arrive(client):
    client.subscribe("many")
    threads = [
        threading.Thread(target=lambda i=i: [client.send("many", type="x", n=i * 100 + k) for k in range(50)])
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    received = {client.wait_for_message_on_topic("many")["n"] for _ in range(200)}
    assert received == {i * 100 + k for i in range(4) for k in range(50)}


def test_test_commands_are_never_delivered(client):
    client.subscribe("t")
    client._zmq_cmd("anything", topic="t")
    client.send("t", type="real")
    assert client.wait_for_message_on_topic("t")["type"] == "real"
    with pytest.raises(TimeoutError):
        client.wait_for_message_on_topic("t", timeout=0.2)


def test_waiting_on_a_topic_not_subscribed_is_a_developer_error(client):
    with pytest.raises(DeveloperError, match="please subscribe"):
        client.wait_for_message_on_topic("never")


def test_an_invalid_message_stops_the_client_and_the_wait_says_why(broker, client):
    client.subscribe("t")
    pub = broker.context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    try:
        pub.connect(client.sub_endpoint)
        deadline = time.monotonic() + 10
        # the new PUB socket joins the broker asynchronously: repeat until the client has seen it
        while client.is_alive() and time.monotonic() < deadline:
            pub.send_multipart([b"t", b"two", b"bodies"])
            time.sleep(0.02)
        with pytest.raises(TestClientStopped, match="invalid number of parts: 3") as info:
            client.wait_for_message(lambda topic, message: True, timeout=5)
        assert isinstance(info.value, TimeoutError)
        assert not client.is_alive()
    finally:
        pub.close()


def test_dispatcher_handlers_run_and_a_failing_one_stops_the_client(client):
    client.subscribe("greet")
    seen: list[str] = []
    client.zmq_dispatcher.register_handler(
        "greet", Greeting, lambda m: seen.append(m.text), register_schema=False
    )
    client.send("greet", Greeting(text="one"))
    client.wait_for_message_on_topic("greet")
    wait_until(lambda: seen == ["one"])

    def fail(message):
        raise ValueError("handler broke")

    client.zmq_dispatcher.register_handler("greet", Greeting, fail, register_schema=False)
    client.send("greet", Greeting(text="two"))
    client.wait_for_message_on_topic("greet")
    with pytest.raises(TestClientStopped, match="handler broke"):
        client.wait_for_message_on_topic("greet", timeout=5)


def test_broker_stopped_before_the_client_ends_the_client_thread():
    broker = TestBroker("inproc://a-sub", "inproc://a-pub")
    broker.start()
    client = TestClient(broker)
    client.start()
    client.subscribe("t")
    broker.stop()
    assert not client.is_alive()
    client.stop()
    with pytest.raises(TestClientStopped):
        client.send("t", type="x")


def test_a_socket_with_infinite_linger_left_open_is_named_and_not_closed_by_stop():
    broker = TestBroker(f"tcp://127.0.0.1:{free_tcp_port()}", f"tcp://127.0.0.1:{free_tcp_port()}")
    broker.shutdown_timeout = 0.5
    broker.start()
    stray = broker.context.socket(zmq.PUB)
    stray.connect(broker.sub_bind)
    with pytest.raises(AssertionError, match="infinite linger") as info:
        broker.stop()
    assert "PUB socket (connected to " + broker.sub_bind in str(info.value)
    assert not stray.closed  # reported, never closed behind the owner's back
    stray.close(0)
    wait_until(lambda: broker.context.closed)


ABANDONED_SOCKET_SCRIPT = textwrap.dedent(
    """
    import threading, time, zmq
    from openmodule_test.zeromq import TestBroker

    broker = TestBroker("inproc://s", "inproc://p")
    broker.shutdown_timeout = 0.5
    broker.start()
    stop = threading.Event()
    ready = threading.Event()

    def careless_service():
        # Uses its socket until told to stop and ignores ETERM: stop() must neither hang nor close it.
        sock = broker.context.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect("inproc://p")
        ready.set()
        while not stop.is_set():
            try:
                sock.poll(5)
            except zmq.ZMQError:
                time.sleep(0.001)
        sock.close()

    thread = threading.Thread(target=careless_service, name="careless-service")
    thread.start()
    ready.wait()
    try:
        broker.stop()
    except AssertionError as exc:
        print("REPORTED", "careless-service" in str(exc))
    stop.set()
    thread.join()
    deadline = time.monotonic() + 10
    while not broker.context.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    print("TERMINATED", broker.context.closed)
    """
)


def test_stop_with_a_socket_still_in_use_by_another_thread_does_not_abort(tmp_path):
    script = tmp_path / "abandoned.py"
    script.write_text(ABANDONED_SOCKET_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env={**os.environ}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "REPORTED True" in result.stdout
    assert "TERMINATED True" in result.stdout


def test_a_core_the_test_left_running_is_shut_down_before_the_broker_stops():
    # A failed assertion can skip a test's shutdown_openmodule(): the mixin's cleanup shuts the core down
    # (warning about it), so the broker stops at once and the next test can start a core.
    import unittest
    import warnings

    from openmodule.config import settings
    from openmodule.core import core_or_none, init_openmodule
    from openmodule_test.zeromq import ZMQTestMixin

    class Forgetful(ZMQTestMixin):
        def test_start_and_fail(self):
            # logging=False: init_logging routes warnings into logging, out of the reach of catch_warnings
            init_openmodule(settings, context=self.zmq_context(), sentry=False, dsgvo=False, logging=False)
            raise AssertionError("the test failed before it could shut the core down")

    result = unittest.TestResult()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Forgetful("test_start_and_fail").run(result)
    assert [str(failure[1]).splitlines()[-1] for failure in result.failures] == [
        "AssertionError: the test failed before it could shut the core down"
    ]
    assert result.errors == []  # the cleanup itself (broker stop) did not fail
    assert core_or_none() is None
    assert any(
        issubclass(w.category, ResourceWarning) and "left the openmodule core" in str(w.message)
        for w in caught
    )


@pytest.mark.parametrize("protocol", ["inproc", "tcp"])
def test_a_message_sent_right_after_another_client_subscribed_arrives(protocol):
    # Once subscribe() returns, every client of the broker reaches the subscriber (a PUB socket drops
    # what it sends on a topic whose subscription it has not taken in yet).
    if protocol == "tcp":
        broker = TestBroker(f"tcp://127.0.0.1:{free_tcp_port()}", f"tcp://127.0.0.1:{free_tcp_port()}")
    else:
        broker = TestBroker("inproc://late-sub", "inproc://late-pub")
    broker.start()
    sender, receiver = TestClient(broker), TestClient(broker)
    try:
        sender.start()
        receiver.start()
        for i in range(30):
            receiver.subscribe(f"fresh-{i}")
            sender.send(f"fresh-{i}", type="x", n=i)
            assert receiver.wait_for_message_on_topic(f"fresh-{i}", timeout=5)["n"] == i
    finally:
        sender.stop()
        receiver.stop()
        broker.stop()

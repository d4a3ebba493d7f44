from __future__ import annotations

import logging
import threading
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
import zmq
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import field_validator

from openmodule.messaging import (
    MessageLoop,
    Publisher,
    decode_frames,
    receive_message_from_socket,
    wait_for_connection,
)
from openmodule.models.base import ZMQMessage


class Demo(ZMQMessage):
    type: str = "demo"
    value: int


def test_publish_reaches_handler_with_exact_topic(bus: SimpleNamespace, om_wait_until) -> None:
    got: list[tuple[str, int]] = []
    bus.dispatcher.register_handler("abc", Demo, lambda m: got.append(("abc", m.value)))
    bus.dispatcher.register_handler("abcd", Demo, lambda m: got.append(("abcd", m.value)))
    wait_for_connection(bus.publisher, bus.loop, timeout=10)  # subscriptions applied and forwarded
    bus.publisher.publish(Demo(value=1), "abcd")
    bus.publisher.publish({"type": "demo", "name": "raw", "timestamp": 1.5, "value": 2}, "abc")
    om_wait_until(lambda: len(got) == 2, what="two messages")
    assert got == [("abcd", 1), ("abc", 2)]


def test_unregister_stops_delivery(bus: SimpleNamespace, om_wait_until) -> None:
    got: list[int] = []
    handle = bus.dispatcher.register_handler("gone", Demo, lambda m: got.append(m.value))
    wait_for_connection(bus.publisher, bus.loop, timeout=10)
    bus.publisher.publish(Demo(value=1), "gone")
    om_wait_until(lambda: got == [1], what="first message")
    bus.dispatcher.unregister_handler(handle)
    assert "gone" not in bus.dispatcher.topics
    other: list[int] = []
    bus.dispatcher.register_handler("marker", Demo, lambda m: other.append(m.value))
    wait_for_connection(bus.publisher, bus.loop, timeout=10)
    bus.publisher.publish(Demo(value=2), "gone")
    bus.publisher.publish(Demo(value=3), "marker")
    om_wait_until(lambda: other == [3], what="marker")
    assert got == [1]


@pytest.fixture
def raw_pub(om_zmq_context: zmq.Context, bus: SimpleNamespace):
    sock = om_zmq_context.socket(zmq.PUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(bus.config.BROKER_SUB)
    lock = threading.Lock()
    # the raw socket is ready once a ping through it comes back
    wait_for_connection(bus.dispatcher, sock, lock, timeout=10)
    yield sock
    sock.close(0)


def test_bad_input_is_counted_and_dropped_and_the_loop_keeps_serving(
    bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until
) -> None:
    got: list[int] = []
    errors: list[int] = []

    def handler(m: Demo) -> None:
        if m.value < 0:
            raise RuntimeError("handler failure")
        got.append(m.value)

    bus.dispatcher.register_handler("t", Demo, handler)
    bus.dispatcher.register_handler("t", Demo, lambda m: errors.append(m.value))
    # through raw_pub itself: a PUB filters by the subscriptions it has received, and the
    # publisher's round trip does not prove raw_pub's connection has the new one yet
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    raw_pub.send_multipart([b"t"])
    raw_pub.send_multipart([b"t", b"{}", b"extra"])
    raw_pub.send_multipart([b"t\xff", b"{}"])
    raw_pub.send_multipart([b"t", b"{not json"])
    raw_pub.send_multipart([b"t", b"[1, 2]"])
    raw_pub.send_multipart([b"t", b'{"type": "demo", "name": "x", "value": "NaN-ish"}'])
    raw_pub.send_multipart([b"t", Demo(value=-1).json_bytes()])
    raw_pub.send_multipart([b"t", Demo(value=7).json_bytes()])
    om_wait_until(lambda: got == [7], what="valid message after garbage")
    assert errors == [-1, 7]
    drops = bus.loop.drops
    assert drops == {
        "frame_count": 2,
        "topic_not_utf8": 1,
        "invalid_json": 1,
        "not_an_object": 1,
        "validation_error": 2,
        "handler_error": 1,
    }


def test_longer_topics_a_prefix_subscription_delivers_are_skipped_unread(
    bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until
) -> None:
    got: list[tuple[str, int]] = []
    bus.dispatcher.register_handler("t", Demo, lambda m: got.append(("t", m.value)))
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    # The SUB socket's "t" subscription also delivers "t-long": nobody listens there, so its bodies,
    # broken or not, are neither handed to anyone nor counted as bad input.
    raw_pub.send_multipart([b"t-long", b"{not json"])
    raw_pub.send_multipart([b"t-long", Demo(value=1).json_bytes()])
    raw_pub.send_multipart([b"t", Demo(value=2).json_bytes()])
    om_wait_until(lambda: got == [("t", 2)], what="the message on t")
    assert bus.loop.drops == {}
    # once someone listens on the longer topic, it is delivered and checked like any other
    bus.dispatcher.register_handler("t-long", Demo, lambda m: got.append(("t-long", m.value)))
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    raw_pub.send_multipart([b"t-long", b"{not json"])
    raw_pub.send_multipart([b"t-long", Demo(value=3).json_bytes()])
    om_wait_until(lambda: ("t-long", 3) in got, what="the message on t-long")
    assert bus.loop.drops == {"invalid_json": 1}


def test_receive_message_from_socket(
    om_zmq_context: zmq.Context, config: SimpleNamespace, raw_pub: zmq.Socket
) -> None:
    sub = om_zmq_context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.connect(config.BROKER_PUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"recv")
    sub.setsockopt(zmq.RCVTIMEO, 200)
    try:
        # resend until the subscription has reached the publisher through the broker
        for _ in range(100):
            raw_pub.send_multipart([b"recv", b'{"a": "\\u00e4"}'])
            try:
                result = receive_message_from_socket(sub)
                break
            except zmq.Again:
                continue
        assert result == ("recv", {"a": "ä"})
    finally:
        sub.close(0)
    assert decode_frames([b"x", b"3"]) == (None, None)


def test_each_malformed_message_is_reported_with_what_is_wrong(caplog: pytest.LogCaptureFixture) -> None:
    from openmodule.dispatcher import DropLog

    drops = DropLog(logging.getLogger("test.wire"))
    with caplog.at_level(logging.ERROR, logger="test.wire"):
        for frames in ([b"t"], [b"t", b"a", b"b"], [b"t", b"{nope"], [b"t", b'"text"']):
            assert decode_frames(frames, drops) == (None, None)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for phrase in ("invalid number of parts: 1", "invalid number of parts: 3", "invalid json", "not a dict"):
        assert phrase in text
    assert "nope" not in text  # the content is never echoed


def test_a_socket_of_get_pub_socket_publishes(
    om_zmq_context: zmq.Context, bus: SimpleNamespace, om_wait_until
) -> None:
    from openmodule.messaging import get_pub_socket

    pub = get_pub_socket(om_zmq_context, bus.config)
    try:
        assert pub.getsockopt(zmq.LINGER) == 100 and pub.type == zmq.PUB
        got: list[int] = []
        bus.dispatcher.register_handler("own-pub", Demo, lambda m: got.append(m.value))
        wait_for_connection(bus.dispatcher, pub, timeout=10)  # 12.x form: (dispatcher, pub_socket)
        Demo(value=3).publish_on_topic(pub, "own-pub")
        om_wait_until(lambda: got == [3], what="message through the own socket")
    finally:
        pub.close()


def test_wait_for_connection_without_a_socket_uses_the_running_core(bus: SimpleNamespace) -> None:
    from openmodule.messaging import NoRunningCore, set_running_core

    with pytest.raises(NoRunningCore, match="wait_for_connection"):
        wait_for_connection(bus.dispatcher, timeout=1)
    set_running_core(SimpleNamespace(publish=bus.publisher.publish))
    try:
        wait_for_connection(bus.dispatcher, timeout=10)
    finally:
        set_running_core(None)


def test_publisher_takes_ready_made_frames_from_any_thread(bus: SimpleNamespace, om_wait_until) -> None:
    # Code written against a PUB socket calls send_multipart (message.publish_on_topic(server.pub, ...)).
    got: list[int] = []
    bus.dispatcher.register_handler("frames", Demo, lambda m: got.append(m.value))
    wait_for_connection(bus.publisher, bus.loop, timeout=10)
    threads = [
        threading.Thread(target=lambda i=i: Demo(value=i).publish_on_topic(bus.publisher, "frames"))
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    om_wait_until(lambda: sorted(got) == [0, 1, 2, 3], what="four messages")
    with pytest.raises(ValueError, match="two frames"):
        bus.publisher.send_multipart([b"t", b"{}", b"x"])


def test_wait_for_connection_times_out_without_broker(om_zmq_context: zmq.Context) -> None:
    dead = SimpleNamespace(NAME="n", BROKER_SUB="tcp://127.0.0.1:1", BROKER_PUB="tcp://127.0.0.1:1")
    publisher = Publisher(om_zmq_context, dead, linger=0)
    loop = MessageLoop(om_zmq_context, dead).start()
    try:
        with pytest.raises(TimeoutError, match="could not connect"):
            wait_for_connection(publisher, loop, timeout=0.3)
        assert loop.dispatcher.topics == []
    finally:
        loop.stop()
        publisher.close()


def test_publish_from_many_threads_with_executor(
    om_zmq_context: zmq.Context, config: SimpleNamespace, om_wait_until
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, executor=ThreadPoolExecutor(2)).start()
    try:
        assert loop.dispatcher.is_multi_threaded
        got: list[int] = []
        lock = threading.Lock()

        def handler(m: Demo) -> None:
            with lock:
                got.append(m.value)

        # registered from a foreign thread: applied by the loop thread
        t = threading.Thread(target=loop.dispatcher.register_handler, args=("mt", Demo, handler))
        t.start()
        t.join()
        wait_for_connection(publisher, loop, timeout=10)
        threads = [
            threading.Thread(
                target=lambda base=base: [publisher.publish(Demo(value=base + i), "mt") for i in range(50)]
            )
            for base in (0, 100, 200, 300)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        om_wait_until(lambda: len(got) == 200, what="200 messages")
        assert sorted(got) == [base + i for base in (0, 100, 200, 300) for i in range(50)]
    finally:
        loop.stop()
        publisher.close()


body = st.binary(max_size=40) | st.sampled_from(
    [b"{}", b"[]", b"null", b'{"type":"demo"}', b'{"type":"demo","value":"x"}', b"\xff\xfe", b'"s"', b"1e999"]
)
# mostly the subscribed topic (so the garbage reaches the loop), sometimes near misses or noise
topic = st.sampled_from([b"fuzz", b"fuzz", b"fuzz\xff", b"fuzzy"]) | st.binary(max_size=8)
message = st.tuples(topic, st.lists(body, min_size=0, max_size=3)).map(lambda t: [t[0], *t[1]])


@hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=st.lists(message, min_size=1, max_size=8))
def test_fuzz_random_frames_never_stop_the_loop(bus_for_fuzz: Any, batches: list[list[bytes]]) -> None:
    bus, raw_pub, got, om_wait_until = bus_for_fuzz
    for frames in batches:
        raw_pub.send_multipart(frames)
    marker = len(got)
    raw_pub.send_multipart([b"fuzz", Demo(value=marker, name="marker").json_bytes()])
    om_wait_until(lambda: marker in got, what="marker after random frames")
    assert bus.loop.running


@pytest.fixture
def bus_for_fuzz(bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until):
    got: list[int] = []
    bus.dispatcher.register_handler("fuzz", Demo, lambda m: got.append(m.value), filter={"name": "marker"})
    # the handler also sees fuzz frames that happen to be valid; only markers are recorded
    # through raw_pub itself: a PUB filters by the subscriptions it has received, and the
    # publisher's round trip does not prove raw_pub's connection has the new one yet
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    return bus, raw_pub, got, om_wait_until


def test_a_burst_longer_than_a_batch_arrives_complete_and_in_order(
    bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until
) -> None:
    # more than the loop's batch (256) per wake-up, below the high-water mark (1000), bad input mixed in
    got: list[int] = []
    bus.dispatcher.register_handler("burst", Demo, lambda m: got.append(m.value))
    # through raw_pub itself: a PUB filters by the subscriptions it has received, and the
    # publisher's round trip does not prove raw_pub's connection has the new one yet
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    for i in range(700):
        raw_pub.send_multipart([b"burst", Demo(value=i).json_bytes()])
        if i % 100 == 0:
            raw_pub.send_multipart([b"burst", b'{"type": "demo", "value": "not a number"}'])
        if i == 350:  # a long multipart message must be consumed whole, not split into messages
            raw_pub.send_multipart([b"burst", Demo(value=-1).json_bytes(), b"", Demo(value=-2).json_bytes()])
    om_wait_until(lambda: len(got) == 700, what="700 messages")
    assert got == list(range(700))
    assert bus.loop.drops == {"validation_error": 7, "frame_count": 1}


def test_publishing_threads_lose_nothing_and_keep_their_order(
    bus: SimpleNamespace, om_zmq_context: zmq.Context, om_wait_until
) -> None:
    # Many threads publishing at once share the socket by combining (one sends what others queued):
    # every message must arrive, each thread's in the order it published them. (800 in all: below the
    # sockets' high-water mark of 1000, where PUB/SUB drops by design.)
    threads, per_thread = 8, 100
    received: list[tuple[int, int]] = []
    bus.dispatcher.register_handler("combined", Demo, lambda m: received.append(divmod(m.value, 10_000)))
    wait_for_connection(bus.publisher, bus.loop, timeout=10)
    start = threading.Barrier(threads)

    def publish(k: int) -> None:
        start.wait()
        for i in range(per_thread):
            bus.publisher.publish(Demo(value=k * 10_000 + i), "combined")

    workers = [threading.Thread(target=publish, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    om_wait_until(lambda: len(received) == threads * per_thread, what="every published message")
    for k in range(threads):
        assert [i for thread, i in received if thread == k] == list(range(per_thread))


def test_after_burst_runs_in_the_loop_thread_after_the_handler(bus: SimpleNamespace, om_wait_until) -> None:
    events: list[tuple[str, int, int]] = []

    def handler(m: Demo) -> None:
        events.append(("handler", m.value, threading.get_ident()))
        if m.value == 2:
            bus.dispatcher.after_burst(lambda: 1 / 0)  # a failing callback is logged and counted
        bus.dispatcher.after_burst(lambda: events.append(("after", m.value, threading.get_ident())))

    bus.dispatcher.register_handler("burst", Demo, handler)
    wait_for_connection(bus.publisher, bus.loop, timeout=10)
    for value in (1, 2, 3):
        bus.publisher.publish(Demo(value=value), "burst")
    om_wait_until(lambda: len(events) == 6, what="three handlers and their callbacks")
    loop_thread = bus.loop._receiver.thread.ident
    assert {ident for _, _, ident in events} == {loop_thread}
    for value in (1, 2, 3):
        assert events.index(("handler", value, loop_thread)) < events.index(("after", value, loop_thread))
    assert bus.loop.drops.get("handler_error") == 1
    # outside the loop thread the callback runs at once
    ran: list[int] = []
    bus.dispatcher.after_burst(lambda: ran.append(1))
    assert ran == [1]


def test_one_message_with_an_impossible_timestamp_never_ends_the_loop(
    bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until
) -> None:
    # Each of these raised OverflowError inside validation, escaped the dispatcher and ended the
    # receiving thread (and with it the service): now each is one counted validation error.
    got: list[int] = []
    bus.dispatcher.register_handler("ts", Demo, lambda m: got.append(m.value))
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    impossible = [1e300, -1e300, "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"]
    for stamp in impossible:
        body = {"type": "demo", "name": "x", "value": 0, "timestamp": stamp}
        raw_pub.send_multipart([b"ts", orjson.dumps(body)])
    # a millisecond timestamp is valid input (read as pydantic v1 read it)
    raw_pub.send_multipart(
        [b"ts", orjson.dumps({"type": "demo", "name": "x", "value": 1, "timestamp": 1.7e12})]
    )
    om_wait_until(lambda: got == [1], what="the valid message after the impossible ones")
    assert bus.loop.running
    assert bus.loop.drops == {"validation_error": len(impossible)}


def test_a_validator_raising_anything_is_a_counted_validation_error(
    bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until
) -> None:
    class Picky(ZMQMessage):
        type: str = "demo"
        value: int

        @field_validator("value")
        @classmethod
        def _explode(cls, value: int) -> int:
            if value < 0:
                raise KeyError("not a ValueError: pydantic lets it through")
            return value

    got: list[int] = []
    bus.dispatcher.register_handler("picky", Picky, lambda m: got.append(m.value))
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    raw_pub.send_multipart([b"picky", Demo(value=-1).json_bytes()])
    raw_pub.send_multipart([b"picky", Demo(value=2).json_bytes()])
    om_wait_until(lambda: got == [2], what="the valid message after the exploding one")
    assert bus.loop.running
    assert bus.loop.drops == {"validation_error": 1}


def test_drop_reports_name_the_problem_never_the_values(
    bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until, caplog: pytest.LogCaptureFixture
) -> None:
    # Received data can hold personal data (a plate) and be of any size: a report quotes neither.
    class Plates(ZMQMessage):
        type: str = "plates"
        counts: list[int]
        ids: dict[str, int] = {}

        @field_validator("ids")
        @classmethod
        def _check(cls, value: dict[str, int]) -> dict[str, int]:
            if "stop" in value:
                raise ValueError(f"refusing {value}")  # a validator quoting the value it got
            return value

    plate = "G ARIVO1"
    got: list[list[int]] = []
    bus.dispatcher.drops.interval = 0  # report every drop (the rate limit has a test of its own)
    bus.dispatcher.register_handler("plates", Plates, lambda m: got.append(m.counts))
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    head = {"type": "plates", "name": "x", "timestamp": 1}
    with caplog.at_level(logging.DEBUG, logger="openmodule"):
        bad = [
            {**head, "counts": [plate] * 20_000},  # 20,000 errors, each with the plate as input
            {**head, "counts": [], "ids": {"stop": 1, plate: 2}},
        ]
        for body in bad:
            raw_pub.send_multipart([b"plates", orjson.dumps(body)])
        raw_pub.send_multipart([b"plates", b'{"plate": "' + plate.encode() + b'", broken'])
        raw_pub.send_multipart([b"plates", orjson.dumps([plate] * 10_000)])
        raw_pub.send_multipart([b"plates", orjson.dumps({**head, "counts": [1]})])
        om_wait_until(lambda: got == [[1]], what="the valid message after the bad ones")
    assert bus.loop.drops == {"validation_error": 2, "invalid_json": 1, "not_an_object": 1}
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("openmodule")]
    text = "\n".join(lines)
    assert plate not in text and "ARIVO" not in text
    assert "int_parsing" in text and '"loc":["counts",0]' in text and "more errors not listed" in text
    assert '"loc":["ids"],"type":"value_error"' in text  # where and what kind, not the validator's text
    assert max(len(line) for line in lines) <= 2_500, max(lines, key=len)[:300]


class _Unprintable(Exception):
    """An exception that cannot be shown: its str() and repr() raise."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_a_handler_raising_an_exception_that_cannot_be_shown_is_reported_by_its_type(
    bus: SimpleNamespace, raw_pub: zmq.Socket, om_wait_until, caplog: pytest.LogCaptureFixture
) -> None:
    # The drop report formatted the exception with repr(): that raised again inside the except block, and
    # only the loop's last safety net kept the thread alive, reporting the RuntimeError of repr() instead.
    got: list[int] = []

    def handler(message: Demo) -> None:
        if message.value < 0:
            raise _Unprintable()
        got.append(message.value)

    bus.dispatcher.register_handler("odd", Demo, handler)
    wait_for_connection(bus.dispatcher, raw_pub, threading.Lock(), 10)
    raw_pub.send_multipart([b"odd", Demo(value=-1).json_bytes()])
    raw_pub.send_multipart([b"odd", Demo(value=2).json_bytes()])
    om_wait_until(lambda: got == [2], what="the valid message after the odd one")
    assert bus.loop.running
    assert bus.loop.drops == {"handler_error": 1}
    assert "raised <_Unprintable that cannot be shown>" in caplog.text


def test_refresh_subscriptions_takes_in_a_subscription_that_just_arrived(om_zmq_context: zmq.Context) -> None:
    # The broker's XSUB side, played by the test: it forwards a new subscription right after the
    # publisher sent something, as when a service subscribes its RPC reply topic and calls at once.
    xsub = om_zmq_context.socket(zmq.XSUB)
    xsub.setsockopt(zmq.LINGER, 0)
    xsub.setsockopt(zmq.RCVTIMEO, 1000)
    endpoint = "inproc://refresh-test"
    xsub.bind(endpoint)
    publisher = Publisher(om_zmq_context, SimpleNamespace(NAME="t", BROKER_SUB=endpoint), linger=0)
    try:
        xsub.send(b"\x01warm")
        for _ in range(100):  # until the publisher has taken in the first subscription
            publisher.publish({"type": "x"}, "warm")
            try:
                if xsub.recv_multipart()[0] == b"warm":
                    break
            except zmq.Again:
                pass
        lost = []
        for i in range(50):
            topic = f"fresh-{i}"
            publisher.publish({"type": "x"}, "warm")  # ZeroMQ reads the socket's subscriptions here ...
            xsub.send(b"\x01" + topic.encode())  # ... so this one would only be seen a millisecond later
            publisher.refresh_subscriptions()
            publisher.publish({"type": "x", "n": i}, topic)
            received = set()
            try:
                while topic.encode() not in received:
                    received.add(xsub.recv_multipart()[0])
            except zmq.Again:
                lost.append(topic)
        assert lost == []
    finally:
        publisher.close(0)
        xsub.close(0)


def test_find_publisher_behind_a_publish_callable(
    om_zmq_context: zmq.Context, config: SimpleNamespace
) -> None:
    from openmodule.messaging import find_publisher

    publisher = Publisher(om_zmq_context, config, linger=0)
    try:
        owner = SimpleNamespace(publisher=publisher)
        owner.publish = lambda message, topic: None
        assert find_publisher(publisher) is publisher
        assert find_publisher(publisher.publish) is publisher

        class Core:
            def __init__(self) -> None:
                self.publisher = publisher

            def publish(self, message: Any, topic: str) -> None:
                publisher.publish(message, topic)

        assert find_publisher(Core().publish) is publisher
        assert find_publisher(lambda message, topic: None) is None
    finally:
        publisher.close(0)

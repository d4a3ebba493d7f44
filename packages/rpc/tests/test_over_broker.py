"""Server and client talking through a real broker process."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import orjson
import pytest
from pydantic import field_validator

from openmodule.messaging import receive_drops
from openmodule.models.base import OpenModuleModel
from openmodule.rpc import RPCClient


def echo(request, message):
    """echo the request"""
    return {"value": request.value, "text": request.text}


@pytest.fixture
def echo_server(make_server, wait_served, models):
    server = make_server()
    server.register_handler("echo", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.run_as_thread()
    wait_served(server, "echo")
    return server


def test_round_trip(bus, echo_server, models):
    response = bus.client.rpc("echo", "echo", models.EchoRequest(value=7, text="ä€"), models.EchoResponse)
    assert response == models.EchoResponse(value=7, text="ä€")
    with pytest.raises(AssertionError):
        echo_server.run_as_thread()  # only once


def test_non_blocking_entry(bus, echo_server, models):
    entries = [bus.client.rpc_non_blocking("echo", "echo", models.EchoRequest(value=i)) for i in range(20)]
    assert [e.result(models.EchoResponse).value for e in entries] == list(range(20))
    assert all(e.done() for e in entries)
    assert len(bus.client._pending) == 0


def test_dict_request_warns_and_works(bus, echo_server, models):
    with pytest.warns(DeprecationWarning, match="dict"):
        response = bus.client.rpc("echo", "echo", {"value": 3}, models.EchoResponse)
    assert response.value == 3


def test_errors_over_the_wire_and_server_keeps_serving(bus, make_server, wait_served, models):
    def boom(request, message):
        """raises"""
        raise RuntimeError("kaputt")

    def picky(request, **_):
        raise ValueError("no gateway")

    server = make_server()
    server.register_handler("err", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.register_handler("err", "boom", models.EmptyModel, models.EmptyModel, boom)
    server.register_handler("err", "filtered", models.EmptyModel, models.EmptyModel, boom)
    server.add_filter(picky, "err", "filtered")
    server.run_as_thread()
    wait_served(server, "err")
    client = bus.client

    with pytest.raises(RPCClient.ServerValidationError) as info, pytest.warns(DeprecationWarning):
        client.rpc("err", "echo", {"value": "seven"}, models.EchoResponse)
    assert json.loads(str(info.value))[0]["loc"] == ["value"]
    with pytest.raises(RPCClient.ServerHandlerError, match="^kaputt$"):
        client.rpc("err", "boom", models.EmptyModel(), models.EmptyModel)
    with pytest.raises(RPCClient.ServerFilterError, match="^no gateway$"):
        client.rpc("err", "filtered", models.EmptyModel(), models.EmptyModel)
    # still serving after every failure
    assert client.rpc("err", "echo", models.EchoRequest(value=1), models.EchoResponse).value == 1
    assert server.counts["validation_error"] == 1 and server.counts["handler_error"] == 1
    assert server.counts["filter_error"] == 1


def test_malformed_envelopes_never_stop_the_server(echo_server, raw, bus, models):
    bad_frames = [
        (b"rpc-req-echo", b"not json"),
        (b"rpc-req-echo", b"[1, 2]"),
        (b"rpc-req-echo", b"{}", b"third frame"),
        (b"rpc-req-echo",),
        (b"rpc-req-\xff\xfe", b"{}"),
    ]
    for frames in bad_frames:
        raw.send(*frames)
    # an envelope without rpc_id gets a validation_error reply with type "unknown" and no rpc_id
    raw.request("echo", {"type": "echo", "name": "raw", "timestamp": 1, "request": {"value": 1}})
    topic, reply = raw.receive()
    assert topic == "rpc-rep-echo" and reply["type"] == "unknown" and "rpc_id" not in reply
    assert reply["response"]["status"] == "validation_error"
    # and a good request right after is answered
    rpc_id = str(uuid.uuid4())
    raw.request(
        "echo", {"type": "echo", "name": "raw", "timestamp": 1, "rpc_id": rpc_id, "request": {"value": 2}}
    )
    topic, reply = raw.receive()
    assert reply["rpc_id"] == rpc_id and reply["response"] == {"value": 2, "text": "", "status": "ok"}
    assert echo_server._receiver.running
    assert bus.client.rpc("echo", "echo", models.EchoRequest(value=3), models.EchoResponse).value == 3


def test_requests_that_fail_conversion_get_a_validation_error_reply(bus, make_server, wait_served, raw):
    # A timestamp without a date and a payload validator raising a non-ValueError both escaped
    # validation (no reply, and in the first case an OverflowError): each is now the caller's bad input.
    class Picky(OpenModuleModel):
        value: int

        @field_validator("value")
        @classmethod
        def _explode(cls, value: int) -> int:
            if value < 0:
                raise KeyError("not a ValueError")
            return value

    def handler(request, message):
        """echo"""
        return {"value": request.value}

    server = make_server()
    server.register_handler("picky", "picky", Picky, Picky, handler)
    server.run_as_thread()
    wait_served(server, "picky")
    for stamp, value in [(1e300, 1), ("0001-01-01T00:00:00+01:00", 1), (1, -1)]:
        rpc_id = str(uuid.uuid4())
        body = {
            "type": "picky",
            "name": "raw",
            "timestamp": stamp,
            "rpc_id": rpc_id,
            "request": {"value": value},
        }
        raw.request("picky", body)
        topic, reply = raw.receive()
        assert topic == "rpc-rep-picky"
        assert reply["response"]["status"] == "validation_error", reply
        # the id is readable even when the envelope's timestamp is not: the reply names the call
        assert reply["rpc_id"] == rpc_id
    assert server.counts["validation_error"] == 3
    assert bus.client.rpc("picky", "picky", Picky(value=4), Picky).value == 4
    # so a caller of ours gets its error at once (1e300 cannot be sent through a model: a raw publish
    # with the id of a pending call, whose own request asked for a type nobody serves)
    entry = bus.client.rpc_non_blocking("picky", "unserved", Picky(value=5), timeout=30)
    raw.request(
        "picky",
        {"type": "picky", "name": "raw", "timestamp": 1e300, "rpc_id": str(entry.rpc_id), "request": {}},
    )
    with pytest.raises(RPCClient.ServerValidationError, match="timestamp"):
        entry.result(Picky)


def test_requests_of_longer_channel_names_are_skipped_unread(echo_server, raw):
    # The server's "rpc-req-echo" subscription also delivers "rpc-req-echo-archive": not its channel, so
    # neither answered nor read (a broken body there is not the server's bad input).
    before = receive_drops.snapshot()
    rpc_id = str(uuid.uuid4())
    raw.send(b"rpc-req-echo-archive", b"not json")
    raw.request(
        "echo-archive",
        {"type": "echo", "name": "raw", "timestamp": 1, "rpc_id": rpc_id, "request": {"value": 1}},
    )
    mine = str(uuid.uuid4())
    raw.request(
        "echo", {"type": "echo", "name": "raw", "timestamp": 1, "rpc_id": mine, "request": {"value": 2}}
    )
    topic, reply = raw.receive()
    assert (topic, reply["rpc_id"]) == ("rpc-rep-echo", mine)
    with pytest.raises(TimeoutError):
        raw.receive(timeout=0.3)
    assert receive_drops.snapshot() == before
    # the same broken body on the server's own channel is bad input, counted and logged
    raw.send(b"rpc-req-echo", b"not json")
    raw.request(
        "echo", {"type": "echo", "name": "raw", "timestamp": 1, "rpc_id": mine, "request": {"value": 3}}
    )
    raw.receive()
    assert receive_drops.snapshot().get("invalid_json", 0) == before.get("invalid_json", 0) + 1


def test_resource_targeting_over_the_wire(echo_server, raw):
    other, mine = str(uuid.uuid4()), str(uuid.uuid4())
    base = {"type": "echo", "name": "raw", "timestamp": 1, "request": {"value": 5}}
    raw.request("echo", base | {"rpc_id": other, "resource": "another-device"})
    raw.request("echo", base | {"rpc_id": mine, "resource": "test-resource"})
    _, reply = raw.receive()
    assert reply["rpc_id"] == mine  # the request for another device was ignored
    with pytest.raises(TimeoutError):
        raw.receive(timeout=0.3)


def test_timeout_and_late_reply(bus, make_server, wait_served, models, caplog):
    release = threading.Event()

    def slow(request, message):
        """answers only when released"""
        release.wait(10)
        return {"value": 1}

    server = make_server()
    server.register_handler("slow", "slow", models.EmptyModel, models.EchoResponse, slow)
    server.run_as_thread()
    wait_served(server, "slow")
    with pytest.raises(RPCClient.TimeoutError):
        bus.client.rpc("slow", "slow", models.EmptyModel(), models.EchoResponse, timeout=0.2)
    release.set()
    deadline = time.monotonic() + 10
    while bus.client.late_responses == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bus.client.late_responses == 1
    assert "late RPC response dropped" in caplog.text
    assert len(bus.client._pending) == 0


def test_unanswered_channel_times_out_and_is_released(bus):
    entry = bus.client.rpc_non_blocking("nobody", "x", None, timeout=0.2)
    with pytest.raises(RPCClient.TimeoutError):
        entry.result(RPCClient.RPCEntry)  # response type unused on timeout
    bus.client._pending.expire()
    assert len(bus.client._pending) == 0


def test_cancel(bus):
    entry = bus.client.rpc_non_blocking("nobody", "x", None, timeout=10)
    entry.cancel()
    with pytest.raises(RPCClient.CancelError):
        entry.result(RPCClient.RPCEntry)
    assert len(bus.client._pending) == 0


def test_concurrent_callers(bus, echo_server, models):
    def call(i):
        return bus.client.rpc("echo", "echo", models.EchoRequest(value=i), models.EchoResponse).value

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(call, range(400))) == list(range(400))


def test_executor_lets_handlers_call_back(bus, make_server, wait_served, models):
    def outer(request, message):
        """calls the inner RPC of the same server"""
        inner = bus.client.rpc("nest", "inner", request, models.EchoResponse, timeout=5)
        return {"value": inner.value + 1}

    server = make_server(executor=ThreadPoolExecutor(4))
    server.register_handler("nest", "outer", models.EchoRequest, models.EchoResponse, outer)
    server.register_handler("nest", "inner", models.EchoRequest, models.EchoResponse, echo)
    server.run_as_thread()
    wait_served(server, "nest")
    assert bus.client.rpc("nest", "outer", models.EchoRequest(value=1), models.EchoResponse).value == 2


def test_server_with_own_publisher(om_zmq_context, config, bus, wait_served, models):
    from openmodule.rpc import RPCServer

    server = RPCServer(om_zmq_context)  # no publish: replies through its own Publisher
    try:
        server.register_handler("own", "echo", models.EchoRequest, models.EchoResponse, echo)
        server.run_as_thread()
        wait_served(server, "own")
        assert bus.client.rpc("own", "echo", models.EchoRequest(value=4), models.EchoResponse).value == 4
    finally:
        server.shutdown()
    assert not server._receiver.running


def test_client_shutdown_unregisters(bus, echo_server, models):
    bus.client.rpc("echo", "echo", models.EchoRequest(value=1), models.EchoResponse)
    assert "rpc-rep-echo" in bus.dispatcher.topics
    waiting = bus.client.rpc_non_blocking("nobody", "x", None, timeout=10)
    bus.client.shutdown()
    assert bus.client.channels == []
    assert "rpc-rep-echo" not in bus.dispatcher.topics and "rpc-rep-nobody" not in bus.dispatcher.topics
    with pytest.raises(RPCClient.CancelError):
        waiting.result(RPCClient.RPCEntry)


def test_request_wire_form(bus, models):
    from openmodule.messaging import encode_message

    sent = []

    def recording_publish(message, topic):
        sent.append((topic, orjson.loads(encode_message(message))))
        bus.publisher.publish(message, topic)

    client = RPCClient(bus.dispatcher, recording_publish, default_timeout=0.3, _warn=False)
    try:
        with pytest.raises(RPCClient.TimeoutError):
            client.rpc("wire", "t", models.AliasRequest(plate_number="G1"), models.EmptyModel)
    finally:
        client.shutdown()
    topic, body = sent[-1]
    assert topic == "rpc-req-wire"
    assert set(body) == {"timestamp", "name", "type", "rpc_id"} | {"request"}
    assert body["name"] == "rpc-test" and body["type"] == "t" and body["request"] == {"plateNumber": "G1"}
    assert str(uuid.UUID(body["rpc_id"])) == body["rpc_id"] and isinstance(body["timestamp"], float)


def _reply(raw, channel, rpc_id, **fields):
    raw.send(
        f"rpc-rep-{channel}".encode(),
        orjson.dumps({"type": "x", "name": "fake-server", "timestamp": 1.0, "rpc_id": rpc_id, **fields}),
    )


def test_a_reply_in_another_spelling_of_the_id_is_matched(bus, raw, models):
    # Servers echo the id as text; one that writes it in upper case still answers our call.
    entry = bus.client.rpc_non_blocking("fake", "x", models.EchoRequest(value=1), timeout=30)
    _reply(raw, "fake", str(entry.rpc_id).upper(), response={"status": "ok", "value": 3})
    assert entry.result(models.EchoResponse).value == 3


def test_a_reply_without_response_object_fails_the_call_at_once(bus, raw, models, caplog):
    # Not a timeout (30 s here): the caller learns at once that the server's reply was unusable.
    entry = bus.client.rpc_non_blocking("fake", "x", models.EchoRequest(value=1), timeout=30)
    _reply(raw, "fake", str(entry.rpc_id), response=[1, 2])
    with pytest.raises(RPCClient.ServerUnknownError, match=r"no response object: \[1, 2\]"):
        entry.result(models.EchoResponse)
    assert "malformed RPC response" in caplog.text
    # and the client keeps working
    entry = bus.client.rpc_non_blocking("fake", "x", models.EchoRequest(value=1), timeout=30)
    _reply(raw, "fake", str(entry.rpc_id), response={"status": "ok", "value": 4})
    assert entry.result(models.EchoResponse).value == 4


def test_blocking_calls_get_errors_parsed_ahead(bus, make_server, wait_served, models):
    # rpc() parses the reply in the receiving thread; errors still reach the caller, every time.
    def fail(request, message):
        """always fails"""
        raise ValueError(f"bad value {request.value}")

    server = make_server()
    server.register_handler("failing", "x", models.EchoRequest, models.EchoResponse, fail)
    server.run_as_thread()
    wait_served(server, "failing")
    for value in (1, 2):
        with pytest.raises(RPCClient.ServerHandlerError, match=f"bad value {value}"):
            bus.client.rpc("failing", "x", models.EchoRequest(value=value), models.EchoResponse)


@pytest.mark.parametrize("status", [[1], {}, {"a": [1]}, 1, None])
def test_a_reply_whose_status_is_not_text_fails_the_call_at_once(bus, raw, models, status):
    # A list or an object as status raised a builtin TypeError (unhashable) in the receiving thread:
    # the blocking caller then waited out its whole timeout and got the TypeError after it.
    done = threading.Event()
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            bus.client.rpc("fake", "x", models.EchoRequest(value=1), models.EchoResponse, timeout=30)
        except BaseException as exc:
            outcome.append(exc)
        done.set()

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while not done.is_set():
        # the caller's id is only known once it is pending: answer every call that waits
        for rpc_id in list(bus.client._pending._entries):
            _reply(raw, "fake", rpc_id, response={"status": status, "value": 3})
        assert time.monotonic() < deadline, "the caller is still waiting: the reply did not end the call"
        done.wait(0.05)
    caller.join()
    assert len(outcome) == 1 and isinstance(outcome[0], RPCClient.ServerUnknownError), outcome
    assert "unknown status" in str(outcome[0])
    # the non-blocking form reads the reply when asked
    entry = bus.client.rpc_non_blocking("fake", "x", models.EchoRequest(value=1), timeout=30)
    _reply(raw, "fake", str(entry.rpc_id), response={"status": status})
    with pytest.raises(RPCClient.ServerUnknownError, match="unknown status"):
        entry.result(models.EchoResponse)


def test_validation_error_replies_and_logs_are_bounded_and_quote_no_values(
    bus, make_server, wait_served, raw, caplog
):
    # A 300 KB request used to get a 17 MB reply (pydantic's JSON error list with every input value) and
    # an 18 MB log line. Now both say where and why, for at most 10 errors, and never what was sent: it
    # can hold personal data such as a plate.
    class Counts(OpenModuleModel):
        counts: list[int]
        gate: str = ""

        @field_validator("gate")
        @classmethod
        def _gate(cls, value: str) -> str:
            if value.startswith("G "):
                raise ValueError(f"unknown gate {value!r}")  # a validator quoting what it got
            return value

    def handler(request, message):
        """counts"""
        return {"counts": request.counts}

    plate = "G ARIVO1"
    server = make_server()
    server.register_handler("counts", "sum", Counts, Counts, handler)
    server.run_as_thread()
    wait_served(server, "counts")
    caplog.set_level(logging.DEBUG, logger="openmodule")
    requests = [
        {"counts": [plate] * 30_000},  # about 300 KB, 30,000 errors
        {"counts": [], "gate": plate},
        {"counts": [plate], "gate": plate * 10_000},
    ]
    replies = []
    for payload in requests:
        rpc_id = str(uuid.uuid4())
        body = {"type": "sum", "name": "raw", "timestamp": 1, "rpc_id": rpc_id, "request": payload}
        raw.request("counts", body)
        topic, reply = raw.receive()
        assert reply["rpc_id"] == rpc_id and reply["response"]["status"] == "validation_error"
        replies.append(orjson.dumps(reply))
    for reply in replies:
        assert plate.encode() not in reply and b"ARIVO" not in reply
        assert len(reply) < 4_000, len(reply)
    errors = json.loads(orjson.loads(replies[0])["response"]["exception"])
    assert len(errors) == 11 and errors[0]["loc"] == ["counts", 0] and errors[0]["type"] == "int_parsing"
    assert errors[-1] == {"loc": [], "type": "more_errors", "msg": "29990 more errors not listed"}
    assert json.loads(orjson.loads(replies[1])["response"]["exception"]) == [
        {"loc": ["gate"], "type": "value_error"}
    ]
    # the client still gets a ServerValidationError naming the field
    with pytest.raises(RPCClient.ServerValidationError) as info, pytest.warns(DeprecationWarning):
        bus.client.rpc("counts", "sum", {"counts": ["x"]}, Counts)
    assert json.loads(str(info.value))[0]["loc"] == ["counts", 0]

    # valid requests are logged at DEBUG only, without their payload
    assert bus.client.rpc("counts", "sum", Counts(counts=[7], gate="gate_1"), Counts).counts == [7]
    records = [r for r in caplog.records if r.name.startswith("openmodule")]
    lines = [r.getMessage() for r in records]
    assert all(plate not in line and "ARIVO" not in line and "gate_1" not in line for line in lines)
    assert max(len(line) for line in lines) < 2_500
    received = [r for r in records if r.getMessage().startswith("received RPC counts/sum")]
    assert received and {r.levelno for r in received} == {logging.DEBUG}


def test_a_request_above_max_message_size_is_refused_and_the_server_keeps_serving(
    bus, make_server, wait_served, raw, models
):
    from openmodule.config import settings

    settings.override(MAX_MESSAGE_SIZE=2000)
    server = make_server()
    server.register_handler("big", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.run_as_thread()
    wait_served(server, "big")
    for _ in range(3):
        body = {"type": "echo", "name": "raw", "timestamp": 1, "rpc_id": str(uuid.uuid4())}
        raw.request("big", {**body, "request": {"value": 1, "text": "x" * 5000}})
        # the server connects again by itself and answers the next call (retried: calls sent while it
        # reconnects are lost with the connection)
        wait_served(server, "big")
        assert bus.client.rpc("big", "echo", models.EchoRequest(value=2), models.EchoResponse).value == 2
    assert server._receiver.link.reconnects >= 1
    assert server.counts["ok"] >= 3 and server.counts["validation_error"] == 0


def test_the_executor_queue_is_bounded_and_shutdown_cancels_its_backlog(
    bus, make_server, wait_served, raw, models
):
    # With an executor every request was queued without limit (60k requests/s for 4 s: 228,000 calls and
    # 700 MB), and shutdown then ran the whole backlog (5 s). Now HANDLER_QUEUE_LIMIT requests wait at most.
    from openmodule.config import settings

    settings.override(HANDLER_QUEUE_LIMIT=10)
    release = threading.Event()
    started: list[int] = []

    def slow(request, message):
        """blocks until released"""
        started.append(request.value)
        release.wait(30)
        return {"value": request.value}

    server = make_server(executor=ThreadPoolExecutor(2))
    server.register_handler("queue", "slow", models.EchoRequest, models.EchoResponse, slow)
    server.register_handler("queue", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.run_as_thread()
    wait_served(server, "queue")
    stopper = threading.Thread(target=server.shutdown, kwargs={"timeout": 10})
    try:
        for i in range(200):
            body = {"type": "slow", "name": "raw", "timestamp": 1, "rpc_id": str(uuid.uuid4())}
            raw.request("queue", {**body, "request": {"value": i}})
        deadline = time.monotonic() + 10
        while server.counts["queue_full"] < 190:
            assert time.monotonic() < deadline, f"only {server.counts['queue_full']} requests were dropped"
            time.sleep(0.01)
        assert server.counts["queue_full"] == 190 and len(started) == 2
        assert server._bounded.pending == 10
        # shutdown cancels the 8 waiting requests at once, then waits for the 2 running ones
        stopper.start()
        while server._bounded.pending > 2:
            assert time.monotonic() < deadline + 10, "shutdown did not cancel the waiting requests"
            time.sleep(0.01)
    finally:
        release.set()
    stopper.join(20)
    assert not stopper.is_alive()
    assert len(started) == 2, "shutdown worked through the backlog"
    assert server._bounded.pending == 0


class _Unprintable(Exception):
    """An exception that cannot be shown: its str() and repr() raise."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_a_handler_raising_an_exception_that_cannot_be_shown_gets_a_handler_error(
    bus, make_server, wait_served, models
):
    # str(exc) for the reply raised again, so no reply was sent and the caller waited out its timeout.
    def odd(request, message):
        """raises an exception that cannot be shown"""
        raise _Unprintable()

    server = make_server()
    server.register_handler("odd", "odd", models.EchoRequest, models.EchoResponse, odd)
    server.register_handler("odd", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.run_as_thread()
    wait_served(server, "odd")
    with pytest.raises(RPCClient.ServerHandlerError, match="^<_Unprintable that cannot be shown>$"):
        bus.client.rpc("odd", "odd", models.EchoRequest(value=1), models.EchoResponse, timeout=10)
    assert bus.client.rpc("odd", "echo", models.EchoRequest(value=2), models.EchoResponse).value == 2
    assert server.counts["handler_error"] == 1


def test_client_without_publish_sends_through_the_running_core(
    om_zmq_context, bus, make_server, wait_served, models
):
    # RPCClient(dispatcher, channels=[...]) as 12.x code builds it: requests go out through the running core.
    from openmodule.messaging import NoRunningCore, set_running_core
    from openmodule.rpc import RPCClient

    server = make_server()
    server.register_handler("via-core", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.run_as_thread()
    wait_served(server, "via-core")
    client = RPCClient(bus.dispatcher, channels=[], _warn=False)
    try:
        with pytest.raises(NoRunningCore, match="RPCClient"):
            client.rpc("via-core", "echo", models.EchoRequest(value=1), models.EchoResponse, timeout=1)
        set_running_core(SimpleNamespace(publish=bus.publisher.publish))
        assert client.rpc("via-core", "echo", models.EchoRequest(value=5), models.EchoResponse).value == 5
    finally:
        set_running_core(None)
        client.shutdown()


def test_a_handler_publishes_through_server_pub(
    om_zmq_context, config, bus, make_server, wait_served, models
):
    # 12.x handlers published extra messages on the server's PUB socket: server.pub still takes them.
    from openmodule.models.base import ZMQMessage
    from openmodule.rpc import RPCServer

    seen: list[dict] = []
    bus.dispatcher.register_handler("side", dict, seen.append, match_type=False, register_schema=False)
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:  # the subscription reaches the broker asynchronously
        bus.publisher.publish(ZMQMessage(type="probe"), "side")
        time.sleep(0.02)
    own = RPCServer(om_zmq_context)  # replies through its own Publisher
    shared = make_server()  # replies through a publish callable
    try:
        for server, channel in ((own, "pub-own"), (shared, "pub-shared")):

            def handler(request, message, server=server, channel=channel):
                ZMQMessage(type=channel).publish_on_topic(server.pub, "side")
                return models.EchoResponse(value=request.value)

            server.register_handler(channel, "echo", models.EchoRequest, models.EchoResponse, handler)
            server.run_as_thread()
            wait_served(server, channel)
            assert (
                bus.client.rpc(channel, "echo", models.EchoRequest(value=2), models.EchoResponse).value == 2
            )
        deadline = time.monotonic() + 10
        while len([m for m in seen if m["type"] != "probe"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(m["type"] for m in seen if m["type"] != "probe") == ["pub-own", "pub-shared"]
    finally:
        own.shutdown()


def test_a_server_never_shut_down_does_not_block_the_context_termination(config, models):
    # Tests that forget server.shutdown() end with the context's termination: the server thread closes
    # its sockets, its own publisher included, so term() returns.
    import zmq

    from openmodule.rpc import RPCServer

    ctx = zmq.Context()
    server = RPCServer(ctx)
    server.register_handler("forgotten", "echo", models.EchoRequest, models.EchoResponse, echo)
    thread = server.run_as_thread()
    terminator = threading.Thread(target=ctx.term, daemon=True)
    terminator.start()
    terminator.join(10)
    assert not terminator.is_alive(), "a socket of the server kept the context alive"
    thread.join(10)
    assert not thread.is_alive()
    server.shutdown()  # still allowed afterwards


def test_replies_take_in_the_callers_fresh_subscription_first(om_zmq_context, config, bus, make_server):
    # A caller subscribes its reply topic just before its first request; the server's publisher must
    # take that subscription in before replying (Publisher.refresh_subscriptions, tested in messaging).
    from openmodule.rpc import RPCServer

    shared = make_server()  # replies through bus.publisher.publish
    assert shared._reply_publisher is bus.publisher
    own = RPCServer(om_zmq_context)
    try:
        assert own._reply_publisher is own._own_publisher is not None
    finally:
        own.shutdown()

"""Parts that need no broker: models, topics, filters, the pending-call table, RPCEntry.result()."""

from __future__ import annotations

import builtins
import threading
import uuid
import warnings
from typing import Any

import orjson
import pydantic
import pytest

import openmodule.rpc as rpc_module
from openmodule.models.base import Direction, Gateway, OpenModuleModel
from openmodule.models.rpc import RPCErrorResult, RPCRequest, RPCResponse, RPCServerError, ServerRPCRequest
from openmodule.rpc import RPCClient, channel_to_request_topic, channel_to_response_topic, gateway_filter
from openmodule.rpc._filters import FilterEntry, should_process
from openmodule.rpc._pending import LATE, PendingCalls


def test_all_is_complete():
    import types

    public = {
        name
        for name in dir(rpc_module)
        if not name.startswith("_") and not isinstance(getattr(rpc_module, name), types.ModuleType)
    }
    public -= {"annotations"}
    assert set(rpc_module.__all__) == public


def test_the_reference_module_paths_export_the_same_objects():
    from openmodule.models.rpc import RPCRequest
    from openmodule.rpc import client, common, server

    assert (server.RPCServer, server.RPCRequest, server.gateway_filter) == (
        rpc_module.RPCServer,
        RPCRequest,
        gateway_filter,
    )
    assert client.RPCClient is RPCClient and client.RPCEntry is rpc_module.RPCEntry
    assert (common.channel_to_request_topic("c"), common.channel_to_response_topic("c")) == (
        "rpc-req-c",
        "rpc-rep-c",
    )
    for module in (server, client, common):
        assert all(hasattr(module, name) for name in module.__all__)


# -- topics and models --------------------------------------------------------------------------------
def test_topics():
    assert channel_to_request_topic("backend") == "rpc-req-backend"
    assert channel_to_response_topic("backend") == "rpc-rep-backend"
    with pytest.raises(AssertionError):
        channel_to_request_topic(b"backend")  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        channel_to_response_topic(1)  # type: ignore[arg-type]


def test_status_values():
    assert [s.value for s in RPCServerError] == ["handler_error", "validation_error", "filter_error", "error"]


def test_request_wire_form():
    rpc_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    msg = RPCRequest(name="svc", type="auth", rpc_id=rpc_id, request={"a": 1}, timestamp=1700000000.5)
    assert orjson.loads(msg.json_bytes()) == {
        "timestamp": 1700000000.5,
        "name": "svc",
        "type": "auth",
        "rpc_id": "12345678-1234-5678-1234-567812345678",
        "request": {"a": 1},
    }
    # resource and request are optional; rpc_id is required and must be a UUID
    assert "resource" not in orjson.loads(msg.json_bytes())
    for bad in ({"type": "x", "name": "n"}, {"type": "x", "name": "n", "rpc_id": "nope"}):
        with pytest.raises(pydantic.ValidationError) as info:
            RPCRequest.model_validate(bad)
        assert info.value.errors()[0]["loc"] == ("rpc_id",)


def test_response_and_error_models():
    msg = RPCResponse(name="svc", type="auth", response={"status": "ok", "x": 1}, timestamp=0)
    assert orjson.loads(msg.json_bytes()) == {
        "timestamp": 0.0,
        "name": "svc",
        "type": "auth",
        "response": {"status": "ok", "x": 1},
    }
    err = RPCErrorResult.model_validate({"status": "handler_error", "exception": "boom"})
    assert err.status is RPCServerError.handler_error and err.exception == "boom" and err.error is None
    with pytest.raises(pydantic.ValidationError):
        RPCErrorResult.model_validate({"status": "ok"})
    assert ServerRPCRequest(rpc="kv", data=[1]).dict() == {"rpc": "kv", "data": [1]}


# -- filters ------------------------------------------------------------------------------------------
def _entries(*specs):
    return [FilterEntry(f, c, t) for f, c, t in specs]


def test_no_filters_processes():
    assert should_process([], "c", "t", request=None, message=None, handler=None)


def test_filter_scoping_and_combination():
    calls = []

    def yes(request, **_):
        calls.append("yes")
        return True

    def no(request, **_):
        calls.append("no")
        return False

    # non-applicable filters are skipped, so a request on another channel is processed
    assert should_process(_entries((no, "other", None)), "c", "t", request=1, message=2, handler=3)
    assert calls == []
    # an applicable rejecting filter rejects...
    assert not should_process(_entries((no, "c", None)), "c", "t", request=1, message=2, handler=3)
    # ...unless any applicable filter accepts (later ones are not called after an accept)
    calls.clear()
    assert should_process(
        _entries((no, None, "t"), (yes, "c", "t"), (no, None, None)),
        "c",
        "t",
        request=1,
        message=2,
        handler=3,
    )
    assert calls == ["no", "yes"]
    # type scoping
    assert should_process(_entries((no, "c", "other")), "c", "t", request=1, message=2, handler=3)
    assert not should_process(_entries((no, None, "t")), "c", "t", request=1, message=2, handler=3)


def test_filters_get_keywords():
    seen = {}

    def spy(*, request, message, handler):
        seen.update(request=request, message=message, handler=handler)
        return True

    should_process(_entries((spy, None, None)), "c", "t", request="r", message="m", handler="h")
    assert seen == {"request": "r", "message": "m", "handler": "h"}


class _GateRequest(OpenModuleModel):
    gateway: Gateway | None = None


def test_gateway_filter_models_and_dicts():
    f = gateway_filter(gate="gate_1", direction=Direction.IN)
    assert f(request=_GateRequest(gateway=Gateway(gate="gate_1", direction="in")))
    assert not f(request=_GateRequest(gateway=Gateway(gate="gate_1", direction="out")))
    assert not f(request=_GateRequest(gateway=Gateway(gate="gate_2", direction="in")))
    assert not f(request=_GateRequest())
    assert f(request={"gateway": {"gate": "gate_1", "direction": "in"}})
    assert not f(request={})
    assert gateway_filter(gate="gate_1")(request={"gateway": {"gate": "gate_1", "direction": "out"}})
    assert gateway_filter(direction="out")(request=_GateRequest(gateway=Gateway(gate="g", direction="out")))
    # called positionally (request, message, handler), as code written against 12.x does
    assert f({"gateway": {"gate": "gate_1", "direction": "in"}}, None, None)
    assert not f({"gateway": {"gate": "gate_1"}}, None, None)


# -- pending-call table -------------------------------------------------------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _E:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline


def test_pending_pop_and_expiry():
    clock = _Clock()
    table: PendingCalls[Any, _E] = PendingCalls(clock=clock, late_memory=300)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ea = _E(101.0)
    table.add(a, ea)
    table.add(b, _E(103.0))
    table.add(c, _E(102.0))
    assert len(table) == 3
    assert table.pop(a) is ea  # answered in time
    assert table.pop(a) is None  # answered calls are forgotten, a duplicate reply is not "late"
    clock.now = 102.5  # c expired, b still pending
    table.expire()
    assert len(table) == 1 and b in table and c not in table
    assert table.pop(c) is LATE
    assert table.pop(uuid.uuid4()) is None  # another client's response
    clock.now = 102.5 + 301  # expired ids are remembered for late_memory seconds only
    table.expire()
    assert table.pop(c) is None  # forgotten after late_memory
    assert table.pop(b) is LATE  # expired just now
    clock.now += 301
    table.expire()
    assert table.expired_size == 0 and table.heap_size == 0 and len(table) == 0


def test_pending_discard_and_drain():
    clock = _Clock()
    table: PendingCalls[Any, _E] = PendingCalls(clock=clock)
    a, b = uuid.uuid4(), uuid.uuid4()
    table.add(a, _E(200))
    table.add(b, _E(200))
    assert table.discard(a) is not None
    clock.now = 201
    table.expire()
    assert table.pop(a) is None  # cancelled calls are not reported as late
    assert table.pop(b) is LATE
    table.add(a, _E(300))
    assert len(table.drain()) == 1 and len(table) == 0


def test_pending_many_entries_released():
    clock = _Clock()
    table: PendingCalls[Any, _E] = PendingCalls(clock=clock)
    for i in range(10_000):
        table.add(uuid.uuid4(), _E(100.0 + (i % 7)))
    clock.now = 110
    table.add(uuid.uuid4(), _E(120))
    assert len(table) == 1 and table.heap_size == 1


# -- RPCEntry.result ----------------------------------------------------------------------------------
class _Resp(OpenModuleModel):
    value: int


def _answered(response, timeout=3.0):
    entry = RPCClient.RPCEntry(timeout, channel="c", type="t")
    entry._set_response(response)
    return entry


def test_result_ok_ignores_status():
    assert _answered({"status": "ok", "value": 3}).result(_Resp) == _Resp(value=3)
    assert _answered({"value": "4"}).result(_Resp).value == 4


@pytest.mark.parametrize(
    ("response", "exc", "text"),
    [
        ({"status": "handler_error", "exception": "boom"}, RPCClient.ServerHandlerError, "boom"),
        ({"status": "handler_error"}, RPCClient.ServerHandlerError, ""),
        ({"status": "validation_error", "exception": "bad"}, RPCClient.ServerValidationError, "bad"),
        ({"status": "filter_error", "exception": "f"}, RPCClient.ServerFilterError, "f"),
        ({"status": "error", "error": "cloud"}, RPCClient.RPCServerError, "cloud"),
        ({"status": "weird"}, RPCClient.ServerUnknownError, None),
    ],
)
def test_result_error_statuses(response, exc, text):
    with pytest.raises(exc) as info:
        _answered(response).result(_Resp)
    assert isinstance(info.value, RPCClient.Exception)
    if text is not None:
        assert str(info.value) == text


def test_result_validation_error_is_pydantic():
    with pytest.raises(RPCClient.ValidationError) as info:
        _answered({"status": "ok", "value": "x"}).result(_Resp)
    assert isinstance(info.value, pydantic.ValidationError)
    assert isinstance(info.value, RPCClient.Exception)
    assert info.value.errors()[0]["loc"] == ("value",)


def test_exception_hierarchy():
    for name in (
        "CancelError",
        "ValidationError",
        "TimeoutError",
        "ServerHandlerError",
        "ServerFilterError",
        "ServerValidationError",
        "RPCServerError",
        "ServerUnknownError",
    ):
        assert issubclass(getattr(RPCClient, name), RPCClient.Exception)
    assert issubclass(RPCClient.TimeoutError, builtins.TimeoutError)


def test_result_timeout_and_no_extension():
    entry = RPCClient.RPCEntry(0.05, channel="c", type="t")
    with pytest.raises(RPCClient.TimeoutError):
        entry.result(_Resp)
    # the deadline counts from the send time: asking for more warns and does not wait longer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RPCClient.TimeoutError):
            entry.result(_Resp, timeout=60)
    assert [str(w.message) for w in caught if w.category is UserWarning][0].startswith("cannot extend")
    # a response that arrived is returned even after the deadline
    entry._set_response({"value": 1})
    assert entry.result(_Resp, timeout=0).value == 1


def test_result_waits_for_response_and_cancel():
    entry = RPCClient.RPCEntry(10, channel="c", type="t")
    assert not entry.done()
    threading.Timer(0.05, entry._set_response, args=({"value": 9},)).start()
    assert entry.result(_Resp).value == 9 and entry.done()

    waiting = RPCClient.RPCEntry(10, channel="c", type="t")
    errors = []

    def wait():
        try:
            waiting.result(_Resp)
        except RPCClient.CancelError as exc:
            errors.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    waiting.cancel()
    thread.join(10)
    assert len(errors) == 1


def test_client_without_publish_needs_a_running_core_only_when_it_sends():
    from openmodule.messaging import NoRunningCore

    client = RPCClient(object(), _warn=False)  # the 12.x form: requests go out through the running core
    with pytest.raises(NoRunningCore, match="RPCClient built without publish"):
        client._publish({}, "rpc-req-x")
    with pytest.warns(DeprecationWarning):
        RPCClient(object(), lambda m, t: None)


def test_pending_reply_after_the_deadline_is_late_even_before_expiry_ran():
    clock = _Clock()
    table: PendingCalls[Any, _E] = PendingCalls(clock=clock)
    a = uuid.uuid4()
    table.add(a, _E(100.5))
    clock.now = 100.5  # due, and no add() or expire() since
    assert table.pop(a) is LATE
    assert len(table) == 0 and table.pop(a) is LATE  # remembered like an expired call


def test_entry_signal_wakes_every_waiter_and_stays_set():
    from openmodule.rpc._client import _Signal

    signal = _Signal()
    assert not signal.is_set() and signal.wait(0.01) is False
    woken: list[bool] = []
    waiters = [threading.Thread(target=lambda: woken.append(signal.wait(10))) for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    signal.set()
    signal.set()  # a second set (reply and cancel racing) is harmless
    for waiter in waiters:
        waiter.join(10)
    assert woken == [True, True, True]
    assert signal.is_set() and signal.wait(0) is True

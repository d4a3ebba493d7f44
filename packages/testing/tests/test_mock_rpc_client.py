from __future__ import annotations

import pytest

from openmodule.models.base import OpenModuleModel
from openmodule.rpc import RPCClient
from openmodule_test.rpc import MockRPCClient


class Request(OpenModuleModel):
    value: int


class Response(OpenModuleModel):
    doubled: int


def test_callback_answers_at_result_time():
    client = MockRPCClient(callbacks={("calc", "double"): lambda req, _msg: Response(doubled=req.value * 2)})
    assert client.rpc("calc", "double", Request(value=21), Response) == Response(doubled=42)
    assert client.last_request[("calc", "double")] == Request(value=21)


def test_callback_may_return_dict():
    client = MockRPCClient(callbacks={("calc", "double"): lambda req, _msg: {"doubled": 4}})
    assert client.rpc("calc", "double", Request(value=2), Response).doubled == 4


def test_failing_callback_is_handler_error():
    def fail(req, _msg):
        raise RuntimeError("kaputt")

    client = MockRPCClient(callbacks={("calc", "double"): fail})
    with pytest.raises(RPCClient.ServerHandlerError, match="kaputt"):
        client.rpc("calc", "double", Request(value=1), Response)


def test_fixed_responses_and_immediate_callbacks():
    client = MockRPCClient(
        responses={("calc", "fixed"): Response(doubled=7)},
        immediate_callbacks={("calc", "now"): lambda req, _m: Response(doubled=req.value)},
    )
    assert client.rpc("calc", "fixed", Request(value=1), Response).doubled == 7
    entry = client.rpc_non_blocking("calc", "now", Request(value=9))
    assert entry.done()
    assert entry.result(Response).doubled == 9


def test_unknown_call_times_out():
    client = MockRPCClient(default_timeout=0.1)
    with pytest.raises(RPCClient.TimeoutError):
        client.rpc("calc", "missing", Request(value=1), Response)

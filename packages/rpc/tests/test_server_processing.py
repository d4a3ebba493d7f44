"""RPCServer.process_rpc step by step, with the replies captured from its publish callable."""

from __future__ import annotations

import json
import uuid
import warnings
from types import SimpleNamespace

import orjson
import pytest

from openmodule.config import settings
from openmodule.messaging import encode_message
from openmodule.rpc import RPCServer

RPC_ID = "12345678-1234-5678-1234-567812345678"


@pytest.fixture
def server(om_zmq_context, config):
    sent = []

    def publish(message, topic):
        sent.append((topic, orjson.loads(encode_message(message))))

    srv = RPCServer(om_zmq_context, publish=publish)
    srv.sent = sent
    yield srv
    srv.shutdown()


def req(type="echo", request=None, **extra):
    msg = {"timestamp": 1.0, "name": "caller", "type": type, "rpc_id": RPC_ID, **extra}
    if request is not None:
        msg["request"] = request
    return msg


def echo(request, message):
    """echo the request"""
    return {"value": request.value, "text": message.name}


def test_ok_response(server, models):
    server.register_handler("chan", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.process_rpc("chan", req(request={"value": 5}))
    ((topic, reply),) = server.sent
    assert topic == "rpc-rep-chan"
    assert reply["name"] == "rpc-test" and reply["type"] == "echo" and reply["rpc_id"] == RPC_ID
    assert reply["response"] == {"value": 5, "text": "caller", "status": "ok"}
    assert isinstance(reply["timestamp"], float)


def test_handler_return_forms(server, models):
    def model_handler(request, message):
        """returns the model"""
        return models.EchoResponse(value=1)

    def none_handler(request, message):
        """returns None"""

    def one_arg(request):
        """README-style handler with one parameter"""
        return {"value": request.value * 2}

    server.register_handler("c", "model", models.EchoRequest, models.EchoResponse, model_handler)
    server.register_handler("c", "none", models.EmptyModel, models.EmptyModel, none_handler)
    server.register_handler("c", "one", models.EchoRequest, models.EchoResponse, one_arg)
    server.process_rpc("c", req("model", {"value": 0}))
    server.process_rpc("c", req("none"))  # also: no request payload at all is an empty request
    server.process_rpc("c", req("one", {"value": 21}))
    assert [r["response"] for _, r in server.sent] == [
        {"value": 1, "text": "", "status": "ok"},
        {"status": "ok"},
        {"value": 42, "text": "", "status": "ok"},
    ]


def test_null_request_is_empty(server, models):
    server.register_handler(
        "c", "none", models.EmptyModel, models.EmptyModel, lambda r, m: None, register_schema=False
    )
    server.process_rpc("c", req("none", request=None) | {"request": None})
    assert server.sent[0][1]["response"] == {"status": "ok"}


def test_alias_and_field_names_accepted(server, models):
    def plate(request, message):
        """echo the plate"""
        return {"value": 0, "text": request.plate_number}

    server.register_handler("c", "p", models.AliasRequest, models.EchoResponse, plate)
    server.process_rpc("c", req("p", {"plateNumber": "G1"}))
    server.process_rpc("c", req("p", {"plate_number": "G2"}))  # 12.x clients send field names
    assert [r["response"]["text"] for _, r in server.sent] == ["G1", "G2"]


def test_validation_error_names_field(server, models):
    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.process_rpc("c", req(request={"value": "not a number"}))
    ((_, reply),) = server.sent
    assert reply["rpc_id"] == RPC_ID and reply["type"] == "echo"
    assert reply["response"]["status"] == "validation_error"
    errors = json.loads(reply["response"]["exception"])
    assert errors[0]["loc"] == ["value"]


def test_invalid_envelope(server, models):
    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.process_rpc("c", {"type": "echo", "request": {"value": 1}})  # no rpc_id
    ((_, reply),) = server.sent
    assert reply["type"] == "unknown" and "rpc_id" not in reply
    assert reply["response"]["status"] == "validation_error"
    assert json.loads(reply["response"]["exception"])[0]["loc"] == ["rpc_id"]


def test_handler_error_and_status_key(server, models):
    def boom(request, message):
        """raises"""
        raise RuntimeError("kaputt")

    def status(request, message):
        """returns a model with a status field"""
        return models.StatusResponse()

    def wrong(request, message):
        """returns something the response class rejects"""
        return {"value": "x"}

    server.register_handler("c", "boom", models.EmptyModel, models.EmptyModel, boom)
    server.register_handler("c", "status", models.EmptyModel, models.StatusResponse, status)
    server.register_handler("c", "wrong", models.EmptyModel, models.EchoResponse, wrong)
    for t in ("boom", "status", "wrong"):
        server.process_rpc("c", req(t))
    responses = [r["response"] for _, r in server.sent]
    assert responses[0] == {"status": "handler_error", "exception": "kaputt"}
    assert responses[1]["status"] == "handler_error" and "'status'" in responses[1]["exception"]
    assert responses[2]["status"] == "handler_error" and "value" in responses[2]["exception"]
    assert server.counts["handler_error"] == 3


def test_unknown_type_gets_no_response(server, models):
    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.process_rpc("c", req("other", {"value": 1}))
    assert server.sent == [] and server.counts["no_handler"] == 1


def test_resource_filter(server, models):
    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.process_rpc("c", req(request={"value": 1}, resource="other-device"))
    assert server.sent == []
    server.process_rpc("c", req(request={"value": 2}, resource="test-resource"))
    server.process_rpc("c", req(request={"value": 3}))  # no resource: processed
    assert [r["response"]["value"] for _, r in server.sent] == [2, 3]


def test_resource_filter_off(om_zmq_context, config, models):
    sent = []
    srv = RPCServer(om_zmq_context, filter_resource=False, publish=lambda m, t: sent.append(m))
    try:
        srv.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
        srv.process_rpc("c", req(request={"value": 1}, resource="other-device"))
        assert len(sent) == 1
    finally:
        srv.shutdown()


def test_filters(server, models):
    seen = []

    def only_even(request, message, handler):
        seen.append((message.type, handler.channel, handler.type))
        return request.value % 2 == 0

    def broken(request, **_):
        raise ValueError("filter broke")

    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    server.register_handler("c", "other", models.EchoRequest, models.EchoResponse, echo)
    server.add_filter(only_even, "c", "echo")
    server.add_filter(broken, "c", "other")
    server.process_rpc("c", req(request={"value": 1}))  # rejected: no response
    server.process_rpc("c", req(request={"value": 2}))
    server.process_rpc("c", req("other", {"value": 1}))
    assert seen == [("echo", "c", "echo"), ("echo", "c", "echo")]
    responses = [r["response"] for _, r in server.sent]
    assert responses == [
        {"value": 2, "text": "caller", "status": "ok"},
        {"status": "filter_error", "exception": "filter broke"},
    ]


def test_duplicate_registration(server, models):
    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    with pytest.raises(ValueError, match="already registered"):
        server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    assert server.registered_channels == {"c"}


def test_prefix_topics_ignored(server, models):
    server.register_handler("ab", "echo", models.EchoRequest, models.EchoResponse, echo)
    server._handle("rpc-req-abc", req(request={"value": 1}))
    server._handle("rpc-rep-ab", req(request={"value": 1}))
    assert server.sent == []
    server._handle("rpc-req-ab", req(request={"value": 1}))
    assert len(server.sent) == 1


def test_schema_docstring_required_in_testing(server, models):
    with settings_testing():
        with pytest.raises(AssertionError, match="docstring"):
            server.register_handler("c", "x", models.EmptyModel, models.EmptyModel, lambda r, m: None)
        server.register_handler(
            "c", "y", models.EmptyModel, models.EmptyModel, lambda r, m: None, register_schema=False
        )


def test_registrations_reach_the_installed_schema_recorder_in_testing(server, models):
    from openmodule.dispatcher import schema_recorder, set_schema_recorder

    recorded = []

    class Recorder:
        def save_message(self, *args):
            raise AssertionError("the RPC server records no message handler")

        def save_rpc(self, channel, type, request_class, response_class, handler, /):
            recorded.append((channel, type, request_class, response_class, handler))

    previous = schema_recorder()
    set_schema_recorder(Recorder())
    try:
        server.register_handler("c", "outside", models.EchoRequest, models.EchoResponse, echo)
        with settings_testing():
            server.register_handler("c", "inside", models.EchoRequest, models.EchoResponse, echo)
            # with a recorder the docstring is the recorder's business (Schema insists on one)
            server.register_handler("c", "lambda", models.EmptyModel, models.EmptyModel, lambda r, m: None)
            server.register_handler(
                "c", "no", models.EmptyModel, models.EmptyModel, echo, register_schema=False
            )
    finally:
        set_schema_recorder(previous)
    assert [entry[:2] for entry in recorded] == [("c", "inside"), ("c", "lambda")]
    assert recorded[0][2:] == (models.EchoRequest, models.EchoResponse, echo)


def settings_testing():
    from openmodule.config import override_context

    return override_context(TESTING=True)


def test_config_is_deprecated_but_used(om_zmq_context, om_broker_process, models):
    cfg = SimpleNamespace(
        NAME="from-config",
        RESOURCE="res-1",
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(SimpleNamespace(NAME="from-settings"))
    sent = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        srv = RPCServer(config=cfg, context=om_zmq_context, publish=lambda m, t: sent.append(m))
    assert any(w.category is DeprecationWarning for w in caught)
    try:
        srv.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
        srv.process_rpc("c", req(request={"value": 1}, resource="res-2"))
        srv.process_rpc("c", req(request={"value": 1}, resource="res-1"))
        assert [m["name"] for m in sent] == ["from-config"]
    finally:
        srv.shutdown()


def test_shutdown_without_run(om_zmq_context, config):
    srv = RPCServer(om_zmq_context, publish=lambda m, t: None)
    srv.shutdown()
    srv.shutdown()  # idempotent
    assert srv.socket.closed


def test_unexpected_error_is_logged_not_raised(om_zmq_context, config, models, caplog):
    def failing_publish(message, topic):
        raise OSError("socket gone")

    srv = RPCServer(om_zmq_context, publish=failing_publish)
    try:
        srv.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
        srv.process_rpc("c", req(request={"value": 1}))
        assert srv.counts["error"] == 1
        assert "socket gone" in caplog.text
    finally:
        srv.shutdown()


def test_rpc_id_is_echoed_exactly(server, models):
    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    rpc_id = str(uuid.uuid4())
    server.process_rpc("c", req(request={"value": 1}) | {"rpc_id": rpc_id})
    assert server.sent[0][1]["rpc_id"] == rpc_id


def test_a_non_canonical_rpc_id_is_echoed_in_canonical_form(server, models):
    server.register_handler("c", "echo", models.EchoRequest, models.EchoResponse, echo)
    rpc_id = uuid.uuid4()
    for sent in (str(rpc_id).upper(), rpc_id.hex, "{" + str(rpc_id) + "}"):
        server.process_rpc("c", req(request={"value": 1}) | {"rpc_id": sent})
    assert [reply["rpc_id"] for _, reply in server.sent] == [str(rpc_id)] * 3

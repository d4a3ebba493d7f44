"""The messaging dispatcher and the RPC server record into Schema through their hook (TESTING only).

openmodule-test installs Schema as the recorder (``set_schema_recorder``) in a service's test run; these
tests install it themselves, as a test run without openmodule-test does.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
import zmq

from openmodule.config import override_context, settings
from openmodule.dispatcher import EventListener, MessageDispatcher, schema_recorder, set_schema_recorder
from openmodule.models.base import OpenModuleModel, ZMQMessage
from openmodule.rpc import RPCServer
from openmodule.utils.schema import Schema


@pytest.fixture(autouse=True)
def recording() -> Iterator[None]:
    previous = schema_recorder()
    set_schema_recorder(Schema)
    yield
    set_schema_recorder(previous)


class IoMessage(ZMQMessage):
    type: str = "io"
    pin: str


class PingRequest(OpenModuleModel):
    value: int


class PingResponse(OpenModuleModel):
    value: int


class Service:
    def on_io(self, message: IoMessage) -> None:
        """Switches the lights."""

    def ping(self, request: PingRequest, message: object) -> PingResponse:
        """Answers with the same value."""
        return PingResponse(value=request.value)

    def undocumented(self, message: IoMessage) -> None:
        pass


@pytest.fixture
def server(testing: SimpleNamespace) -> Iterator[RPCServer]:
    context = zmq.Context()
    rpc = RPCServer(context)
    yield rpc
    rpc.shutdown()
    context.destroy(linger=0)


def test_dispatcher_records_documented_handlers(testing: SimpleNamespace) -> None:
    dispatcher = MessageDispatcher()
    service = Service()
    dispatcher.register_handler("io", IoMessage, service.on_io, filter={"gate": "in"})
    dispatcher.register_handler("io", IoMessage, MagicMock(), register_schema=True)  # mocks are skipped
    dispatcher.register_handler("other", IoMessage, service.on_io, register_schema=False)
    document = Schema.render_schema()
    assert list(document["paths"]) == ["/io/on_io"]
    assert document["paths"]["/io/on_io"]["put"]["summary"] == "Switches the lights."
    assert sorted(document["components"]["schemas"]) == ["IoMessage"]


def test_dispatcher_records_event_listeners_under_their_class(testing: SimpleNamespace) -> None:
    listener: EventListener = EventListener()
    MessageDispatcher().register_handler("io", IoMessage, listener)
    summary = Schema.render_schema()["paths"]["/io/EventListener"]["put"]["summary"]
    assert summary.startswith("A list of callbacks; calling it calls each in order")


def test_dispatcher_registration_fails_for_undocumented_handlers(testing: SimpleNamespace) -> None:
    dispatcher = MessageDispatcher()
    with pytest.raises(AssertionError, match="You need to describe the message handler 'undocumented'"):
        dispatcher.register_handler("io", IoMessage, Service().undocumented)


def test_dispatcher_outside_of_testing_records_nothing(testing: SimpleNamespace) -> None:
    with override_context(TESTING=False):
        MessageDispatcher().register_handler("io", IoMessage, Service().undocumented)
    assert Schema.models == {}


def test_rpc_server_records_rpcs(server: RPCServer) -> None:
    server.register_handler("tests", "ping", PingRequest, PingResponse, Service().ping)
    document = Schema.render_schema()
    assert document["paths"] == {
        "/tests/ping": {
            "post": {
                "summary": "Answers with the same value.",
                "tags": ["RPCs"],
                "requestBody": {
                    "description": "PingRequest",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PingRequest"}}},
                },
                "responses": {
                    "200": {
                        "description": "PingResponse",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/PingResponse"}}
                        },
                    }
                },
            }
        }
    }
    assert sorted(document["components"]["schemas"]) == ["PingRequest", "PingResponse"]


def test_rpc_server_rejects_undocumented_handlers(server: RPCServer) -> None:
    with pytest.raises(AssertionError, match="You need to describe the RPC handler"):
        server.register_handler("tests", "nodoc", PingRequest, PingResponse, lambda request: None)
    server.register_handler(
        "tests", "free", PingRequest, PingResponse, lambda request: None, register_schema=False
    )
    assert "paths" not in Schema.render_schema()
    assert settings.TESTING is True

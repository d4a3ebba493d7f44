from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq
from pydantic import BaseModel, ConfigDict

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.fixtures import wait_until
from openmodule.messaging import MessageLoop, Publisher, set_running_core, wait_for_connection
from openmodule.models.base import ZMQMessage
from openmodule.models.settings import SettingsGetManyRequest, SettingsGetRequest
from openmodule.rpc import RPCClient, RPCServer


class RawAnswer(BaseModel):
    """Whatever the handler returns goes on the wire as it is (the server may answer anything)."""

    model_config = ConfigDict(extra="allow")


class FlushMessage(ZMQMessage):
    type: str = "flush-marker"
    n: int


class SettingsServer:
    """The server side of the settings RPC, as the site's settings service answers it.

    ``values`` maps (key, scope) to the raw JSON value; ``answers`` overrides the whole answer of a key
    (anything, also what does not validate); ``calls`` records (type, keys, scope).
    """

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}
        self.answers: dict[str, Any] = {}
        self.calls: list[tuple[str, list[str], str]] = []
        self.fail_with: Exception | None = None

    def _one(self, key: str, scope: str) -> Any:
        if key in self.answers:
            return self.answers[key]
        if (key, scope) not in self.values:
            return {"success": False, "error": "no such setting"}
        return {"success": True, "value": self.values[(key, scope)]}

    def get(self, request: SettingsGetRequest) -> Any:
        """settings/get"""
        self.calls.append(("get", [request.key], request.scope))
        if self.fail_with:
            raise self.fail_with
        return self._one(request.key, request.scope)

    def get_many(self, request: SettingsGetManyRequest) -> Any:
        """settings/get_many"""
        self.calls.append(("get_many", list(request.key), request.scope))
        if self.fail_with:
            raise self.fail_with
        return {"settings": {key: self._one(key, request.scope) for key in request.key}}


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> Iterator[None]:
    """Every test starts without service environment variables, with settings reset."""
    yield
    set_running_core(None)  # a running core registered by the test must not reach the next one


@pytest.fixture
def bus(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """On the real broker: a running settings ``server`` (an RPCServer of ours), an RPC ``client``, the
    ``dispatcher`` of a running message loop, registered as the running core, and ``publish(message)`` on
    ``settings`` that returns once the loop has handled it."""
    config = SimpleNamespace(
        NAME="om_settings_test_1",
        RESOURCE="test-resource",
        TESTING=False,
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="settings-test").start()
    seen: list[int] = []
    loop.dispatcher.register_handler("settings-flush", FlushMessage, lambda m: seen.append(m.n))
    loop.dispatcher.register_handler("settings", dict, lambda m: None, match_type=False)
    wait_for_connection(publisher, loop, timeout=10)
    server = SettingsServer()
    rpc_server = RPCServer(om_zmq_context, filter_resource=False)
    # raw answers: the server side may send anything, also what does not validate
    rpc_server.register_handler("settings", "get", SettingsGetRequest, RawAnswer, server.get)
    rpc_server.register_handler("settings", "get_many", SettingsGetManyRequest, RawAnswer, server.get_many)
    rpc_server.run_as_thread()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = RPCClient(loop.dispatcher, publisher.publish, default_timeout=10)
    set_running_core(SimpleNamespace(rpc_client=client, messages=loop.dispatcher, config=config))
    counter = itertools.count()

    def publish(message: Any) -> None:
        publisher.publish(message, "settings")
        n = next(counter)
        publisher.publish(FlushMessage(n=n), "settings-flush")
        wait_until(lambda: n in seen, what="the settings message to be handled")

    yield SimpleNamespace(server=server, client=client, dispatcher=loop.dispatcher, publish=publish)
    set_running_core(None)
    client.shutdown()
    rpc_server.shutdown()
    loop.stop()
    publisher.close(0)

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.fixtures import wait_until
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection
from openmodule.models.base import ZMQMessage
from openmodule.rpc import RPCClient, RPCServer


class FlushMessage(ZMQMessage):
    type: str = "flush-marker"
    n: int


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def bus(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """On the real broker: ``rpc_server`` (not yet running), ``client`` (RPC), ``dispatcher`` of a running
    message loop, and ``send(topic, *messages)`` that returns once the loop handled them."""
    config = SimpleNamespace(
        NAME="om_access_test_1",
        RESOURCE="test-resource",
        TESTING=False,
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="access-test").start()
    seen: list[int] = []
    loop.dispatcher.register_handler("session", FlushMessage, lambda m: seen.append(m.n))
    wait_for_connection(publisher, loop, timeout=10)
    server = RPCServer(om_zmq_context, filter_resource=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = RPCClient(loop.dispatcher, publisher.publish, default_timeout=10)
    counter = itertools.count()

    def send(*messages: Any) -> None:
        for message in messages:
            publisher.publish(message, "session")
        n = next(counter)
        publisher.publish(FlushMessage(n=n), "session")
        wait_until(lambda: n in seen, what="session messages to be handled")

    yield SimpleNamespace(rpc_server=server, client=client, dispatcher=loop.dispatcher, send=send)
    client.shutdown()
    server.shutdown()
    loop.stop()
    publisher.close(0)

from __future__ import annotations

import warnings
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection
from openmodule.rpc import RPCClient, RPCServer


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def bus(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """On the real broker: ``rpc_server`` (not yet running) and an RPC ``client``."""
    config = SimpleNamespace(
        NAME="om_vouchers_1",
        RESOURCE="test-resource",
        TESTING=False,
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="validation-test").start()
    wait_for_connection(publisher, loop, timeout=10)
    server = RPCServer(om_zmq_context, filter_resource=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = RPCClient(loop.dispatcher, publisher.publish, default_timeout=10)
    yield SimpleNamespace(rpc_server=server, client=client, config=config)
    client.shutdown()
    server.shutdown()
    loop.stop()
    publisher.close(0)

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

ENV_KEYS = ["TESTING", "DEBUG", "NAME", "AUTH_RESOURCE", "BROKER_PUB", "BROKER_SUB", "SETTINGS_MODULE"]


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture(scope="session")
def broker() -> Iterator[BrokerProcess]:
    with BrokerProcess() as handle:
        yield handle


@pytest.fixture
def bus(broker: BrokerProcess) -> Iterator[SimpleNamespace]:
    """On the real broker: ``rpc_server`` (not yet running) and an RPC ``client``."""
    config = SimpleNamespace(
        NAME="om_vouchers_1",
        RESOURCE="test-resource",
        TESTING=False,
        BROKER_SUB=broker.sub_endpoint,
        BROKER_PUB=broker.pub_endpoint,
    )
    settings.configure(config)
    context = zmq.Context()
    publisher = Publisher(context, config)
    loop = MessageLoop(context, config, name="validation-test").start()
    wait_for_connection(publisher, loop, timeout=10)
    server = RPCServer(context, filter_resource=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = RPCClient(loop.dispatcher, publisher.publish, default_timeout=10)
    yield SimpleNamespace(rpc_server=server, client=client, config=config)
    client.shutdown()
    server.shutdown()
    loop.stop()
    publisher.close(0)
    context.destroy(linger=0)

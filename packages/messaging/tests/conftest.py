from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def config(om_broker_process: BrokerProcess) -> SimpleNamespace:
    """Settings pointing at the test broker (also installed as the global settings)."""
    module = SimpleNamespace(
        NAME="bus-test", BROKER_SUB=om_broker_process.sub_endpoint, BROKER_PUB=om_broker_process.pub_endpoint
    )
    settings.configure(module)
    return module


@pytest.fixture
def bus(om_zmq_context: zmq.Context, config: SimpleNamespace) -> Iterator[SimpleNamespace]:
    """A connected publisher and a running message loop."""
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="test").start()
    wait_for_connection(publisher, loop, timeout=10)
    yield SimpleNamespace(publisher=publisher, loop=loop, dispatcher=loop.dispatcher, config=config)
    loop.stop()
    publisher.close(0)

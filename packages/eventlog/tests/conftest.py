from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.fixtures import wait_until
from openmodule.messaging import MessageLoop, Publisher, set_running_core, wait_for_connection


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> Iterator[None]:
    """Every test starts without service environment variables, with settings reset."""
    yield
    set_running_core(None)  # a running core registered by the test must not reach the next one


@pytest.fixture
def bus(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """A real publisher registered as the running core's ``publish`` and a loop recording ``eventlog``.

    ``bus.next_event()`` waits for the next raw message received on ``eventlog``.
    """
    config = SimpleNamespace(
        NAME="om_eventlog_test_1",
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="eventlog-test").start()
    received: list[dict[str, Any]] = []
    loop.dispatcher.register_handler("eventlog", dict, received.append, match_type=False)
    wait_for_connection(publisher, loop, timeout=10)
    set_running_core(SimpleNamespace(publish=publisher.publish, config=config))

    def next_event(timeout: float = 10) -> dict[str, Any]:
        wait_until(lambda: received, timeout, what="a message on eventlog")
        return received.pop(0)

    yield SimpleNamespace(next_event=next_event, dispatcher=loop.dispatcher)
    set_running_core(None)
    loop.stop()
    publisher.close(0)

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.messaging import MessageLoop, Publisher, set_running_core, wait_for_connection

ENV_KEYS = ["TESTING", "DEBUG", "NAME", "BROKER_PUB", "BROKER_SUB", "BROKER_HOST", "SETTINGS_MODULE"]


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    settings.reset()
    yield
    settings.reset()
    set_running_core(None)


@pytest.fixture(scope="session")
def broker() -> Iterator[BrokerProcess]:
    """One real broker subprocess on free loopback ports for the whole session."""
    with BrokerProcess() as handle:
        yield handle


@pytest.fixture
def bus(broker: BrokerProcess) -> Iterator[SimpleNamespace]:
    """A real publisher registered as the running core's ``publish`` and a loop recording ``eventlog``.

    ``bus.next_event()`` waits for the next raw message received on ``eventlog``.
    """
    config = SimpleNamespace(
        NAME="om_eventlog_test_1", BROKER_SUB=broker.sub_endpoint, BROKER_PUB=broker.pub_endpoint
    )
    settings.configure(config)
    context = zmq.Context()
    publisher = Publisher(context, config)
    loop = MessageLoop(context, config, name="eventlog-test").start()
    received: list[dict[str, Any]] = []
    loop.dispatcher.register_handler("eventlog", dict, received.append, match_type=False)
    wait_for_connection(publisher, loop, timeout=10)
    set_running_core(SimpleNamespace(publish=publisher.publish, config=config))

    def next_event(timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not received:
            if time.monotonic() > deadline:
                raise AssertionError("no message on eventlog")
            time.sleep(0.002)
        return received.pop(0)

    yield SimpleNamespace(next_event=next_event, dispatcher=loop.dispatcher)
    set_running_core(None)
    loop.stop()
    publisher.close(0)
    context.destroy(linger=0)

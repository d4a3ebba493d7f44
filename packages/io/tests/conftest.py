from __future__ import annotations

import itertools
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


class FlushMessage(ZMQMessage):
    type: str = "flush-marker"
    n: int


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def bus(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """A publisher and a running message loop on the real broker. ``bus.send(*messages)`` publishes on
    ``io`` and returns once the loop has handled them all: a marker published last on another topic comes
    back last (one publisher, one subscriber: the broker keeps their order across topics)."""
    config = SimpleNamespace(
        NAME="io-test", BROKER_SUB=om_broker_process.sub_endpoint, BROKER_PUB=om_broker_process.pub_endpoint
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="io-test").start()
    seen: list[int] = []
    loop.dispatcher.register_handler("io-flush", FlushMessage, lambda m: seen.append(m.n))
    # Subscribe to "io" now, so the subscription has reached the broker before a test builds its listener.
    loop.dispatcher.register_handler("io", dict, lambda m: None, match_type=False)
    wait_for_connection(publisher, loop, timeout=10)
    counter = itertools.count()

    def send(*messages: Any) -> None:
        for message in messages:
            publisher.publish(message, "io")
        n = next(counter)
        publisher.publish(FlushMessage(n=n), "io-flush")
        wait_until(lambda: n in seen, what="io messages to be handled")

    yield SimpleNamespace(dispatcher=loop.dispatcher, send=send, publisher=publisher)
    loop.stop()
    publisher.close(0)

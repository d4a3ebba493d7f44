from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.fixtures import wait_until
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection
from openmodule.models.base import ZMQMessage

BASE_ID = 1_700_000_000_000_000_000


class FlushMessage(ZMQMessage):
    type: str = "flush-marker"
    n: int


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def bus(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """A publisher and a running message loop on the real broker. ``bus.send(*messages)`` publishes on
    ``presence`` and returns once the loop has handled them all (a marker sent last comes back last)."""
    config = SimpleNamespace(
        NAME="presence-test",
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="presence-test").start()
    seen: list[int] = []
    loop.dispatcher.register_handler("presence", FlushMessage, lambda m: seen.append(m.n))
    wait_for_connection(publisher, loop, timeout=10)
    counter = itertools.count()

    def send(*messages: Any) -> None:
        for message in messages:
            publisher.publish(message, "presence")
        n = next(counter)
        publisher.publish(FlushMessage(n=n), "presence")
        wait_until(lambda: n in seen, what="presence messages to be handled")

    yield SimpleNamespace(dispatcher=loop.dispatcher, send=send, publisher=publisher)
    loop.stop()
    publisher.close(0)


@pytest.fixture
def presence_msg() -> Callable[..., dict[str, Any]]:
    """A raw presence message dict (what the tracking service sends)."""

    def make(
        type: str,
        vid: int,
        gate: str = "gate1",
        area: str = "area1",
        plate: str | None = "GARIVO1",
        **extra: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "timestamp": 1700000000.0,
            "name": "tracking",
            "type": type,
            "vehicle_id": BASE_ID + vid,
            "source": "tracking",
            "present-area-name": area,
            "last_update": 1700000000.0,
            "gateway": {"gate": gate, "direction": "in"},
            "medium": {"lpr": {"id": plate, "country": {"code": "A"}}} if plate else {},
            "all_ids": [],
        }
        if type in ("forward", "backward"):
            message["leave-time"] = 1700000001.0
        message.update(extra)
        return message

    return make


@pytest.fixture
def events() -> Callable[[Any], list[tuple[str, int, str]]]:
    """Attach recorders to every event of a listener; returns the shared list of (event, vid, gate)."""

    def attach(listener: Any) -> list[tuple[str, int, str]]:
        recorded: list[tuple[str, int, str]] = []
        for name in ("enter", "leave", "forward", "backward", "change"):
            getattr(listener, f"on_{name}").append(
                lambda vehicle, gateway, name=name: recorded.append(
                    (name, vehicle.id - BASE_ID, gateway.gate)
                )
            )
        return recorded

    return attach

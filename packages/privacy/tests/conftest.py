from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

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
    module = SimpleNamespace(
        NAME="om_privacy_test_1",
        RESOURCE="privacy-test",
        TESTING=False,
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(module)
    return module


class Service:
    """One service on the bus: its own zmq context, publisher and message loop (as the core builds them)."""

    def __init__(self, config: SimpleNamespace, name: str) -> None:
        self.name = name
        self.context = zmq.Context()
        self.publisher = Publisher(self.context, config)
        self.loop = MessageLoop(self.context, config, name=name).start()
        self.dispatcher = self.loop.dispatcher
        self.closers: list[Any] = []

    def publish(self, message: Any, topic: str) -> None:
        self.publisher.publish(message, topic)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.loop.stop()
        self.publisher.close(0)
        self.context.destroy(linger=0)


@pytest.fixture
def make_service(config: SimpleNamespace) -> Iterator[Any]:
    services: list[Service] = []

    def make(name: str) -> Service:
        service = Service(config, name)
        services.append(service)
        return service

    yield make
    for service in services:
        service.close()


@pytest.fixture
def connect() -> Any:
    """Wait until ``sender``'s messages reach ``receiver``'s loop (subscriptions made before are live)."""

    def wait(sender: Service, receiver: Service) -> None:
        wait_for_connection(sender.publisher, receiver.loop, 10)

    return wait

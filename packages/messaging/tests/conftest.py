from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection

ENV_KEYS = ["TESTING", "DEBUG", "NAME", "BROKER_PUB", "BROKER_SUB", "BROKER_HOST", "SETTINGS_MODULE"]


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture(scope="session")
def broker() -> Iterator[BrokerProcess]:
    """One real broker subprocess on free loopback ports for the whole session."""
    with BrokerProcess() as handle:
        yield handle


@pytest.fixture
def config(broker: BrokerProcess) -> SimpleNamespace:
    """Settings pointing at the test broker (also installed as the global settings)."""
    module = SimpleNamespace(NAME="bus-test", BROKER_SUB=broker.sub_endpoint, BROKER_PUB=broker.pub_endpoint)
    settings.configure(module)
    return module


@pytest.fixture
def context() -> Iterator[zmq.Context]:
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def bus(context: zmq.Context, config: SimpleNamespace) -> Iterator[SimpleNamespace]:
    """A connected publisher and a running message loop."""
    publisher = Publisher(context, config)
    loop = MessageLoop(context, config, name="test").start()
    wait_for_connection(publisher, loop, timeout=10)
    yield SimpleNamespace(publisher=publisher, loop=loop, dispatcher=loop.dispatcher, config=config)
    loop.stop()
    publisher.close(0)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """Poll ``condition`` until true or fail after ``timeout`` seconds (no fixed sleeps, no timing asserts)."""

    def _wait(condition: Callable[[], Any], timeout: float = 10.0, message: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {message}")
            time.sleep(0.005)

    return _wait

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zmq

from openmodule.config import settings


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("BROKER_PUB", "BROKER_SUB", "BROKER_HOST"):
        monkeypatch.delenv(key, raising=False)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def context() -> Iterator[zmq.Context]:
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def roundtrip(context: zmq.Context) -> Callable[..., list[bytes]]:
    """Publish ``frames`` on ``topic`` into ``sub_endpoint`` until they come out of ``pub_endpoint``."""

    def _roundtrip(
        sub_endpoint: str, pub_endpoint: str, frames: list[bytes], timeout: float = 10.0
    ) -> list[bytes]:
        pub = context.socket(zmq.PUB)
        sub = context.socket(zmq.SUB)
        for sock in (pub, sub):
            sock.setsockopt(zmq.LINGER, 0)
        try:
            pub.connect(sub_endpoint)
            sub.connect(pub_endpoint)
            sub.setsockopt(zmq.SUBSCRIBE, frames[0])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                pub.send_multipart(frames)  # repeated: the subscription travels through the broker first
                if sub.poll(100):
                    return sub.recv_multipart()
            raise AssertionError("nothing came through the broker")
        finally:
            pub.close(0)
            sub.close(0)

    return _roundtrip


@pytest.fixture
def wait_until() -> Callable[..., None]:
    def _wait(condition: Callable[[], Any], timeout: float = 10.0, message: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {message}")
            time.sleep(0.01)

    return _wait

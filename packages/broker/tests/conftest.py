from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import zmq


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def roundtrip(om_zmq_context: zmq.Context) -> Callable[..., list[bytes]]:
    """Publish ``frames`` on ``topic`` into ``sub_endpoint`` until they come out of ``pub_endpoint``."""

    def _roundtrip(
        sub_endpoint: str, pub_endpoint: str, frames: list[bytes], timeout: float = 10.0
    ) -> list[bytes]:
        pub = om_zmq_context.socket(zmq.PUB)
        sub = om_zmq_context.socket(zmq.SUB)
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

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from openmodule.config import settings
from openmodule.fixtures import SERVICE_ENVIRONMENT

# Beyond the service environment that om_clean_settings removes: what the core itself reads.
CORE_ENVIRONMENT = (
    "LOG_FORMAT",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_DB",
    "REDIS_PASSWORD",
    "REDIS_CONNECTION_STATUS_KEY",
    "SENTRY_DSN",
)

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def clean_env(om_clean_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts from an environment without openmodule variables (TESTING on), in an empty folder."""
    for key in CORE_ENVIRONMENT:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TESTING", "true")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def configured(om_broker_process: Any) -> Any:
    """The lazy settings, configured for a test service on the session broker."""
    settings.configure(types.SimpleNamespace())
    settings.override(
        NAME=f"core_test_{uuid.uuid4().hex[:6]}",
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    return settings


@pytest.fixture
def redis_key() -> Iterator[str]:
    """A Redis key of this test only; deleted afterwards."""
    import redis

    key = f"openmodule_core_test:{uuid.uuid4().hex}"
    yield key
    redis.Redis(host="127.0.0.1", port=6379).delete(key)


@pytest.fixture
def bus(om_broker_process: Any) -> Iterator[Any]:
    """A raw SUB/PUB pair on the broker for observing and injecting messages."""
    from openmodule.messaging import encode_message

    class Bus:
        def __init__(self) -> None:
            self.context = zmq.Context()
            self.sub = self.context.socket(zmq.SUB)
            self.sub.setsockopt(zmq.LINGER, 0)
            self.sub.connect(om_broker_process.pub_endpoint)
            self.pub = self.context.socket(zmq.PUB)
            self.pub.setsockopt(zmq.LINGER, 0)
            self.pub.connect(om_broker_process.sub_endpoint)

        def subscribe(self, topic: str) -> None:
            self.sub.subscribe(topic.encode())

        def publish(self, message: Any, topic: str) -> None:
            self.pub.send_multipart([topic.encode(), encode_message(message)])

        def receive(self, topic: str, timeout: float = 10.0) -> dict[str, Any]:
            import json

            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.sub.poll(100):
                    t, body = self.sub.recv_multipart()
                    if t.decode() == topic:
                        return json.loads(body)  # type: ignore[no-any-return]
            raise AssertionError(f"no message on {topic!r}")

        def close(self) -> None:
            self.sub.close()
            self.pub.close()
            self.context.term()

    b = Bus()
    yield b
    b.close()


@pytest.fixture
def no_core_left() -> Iterator[None]:
    """After the test: no core is running and no openmodule thread is alive."""
    yield
    from openmodule.core import core_or_none, shutdown_openmodule

    if core_or_none() is not None:
        shutdown_openmodule()
        raise AssertionError("test left a running core")
    leftover = [t.name for t in threading.enumerate() if t.name.startswith("openmodule")]
    assert leftover == []


class Service:
    """A service subprocess whose output lines are collected by a reader thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        import queue

        self.proc = proc
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float = 20.0) -> str:
        """The next output line starting with ``prefix``; fails with the output seen so far."""
        import queue

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                line = None
            if line is None:
                self.lines.put(None) if self.proc.poll() is not None else None
                raise AssertionError(f"no line starting with {prefix!r}; output:\n{''.join(self.seen)}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line.strip()

    def has_line(self, prefix: str) -> bool:
        """True if an already received line starts with ``prefix`` (does not wait)."""
        import queue

        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)
                break
            self.seen.append(line)
        return any(line.startswith(prefix) for line in self.seen)


@pytest.fixture
def run_service(om_broker_process: Any, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start ``tests/service_main.py`` in a subprocess on the session broker; killed after the test."""
    services: list[Service] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Service:
        full_env = {k: v for k, v in os.environ.items() if k not in (*SERVICE_ENVIRONMENT, *CORE_ENVIRONMENT)}
        full_env.update(
            {
                "TESTING": "true",
                "NAME": f"svc_{uuid.uuid4().hex[:6]}",
                "BROKER_SUB": om_broker_process.sub_endpoint,
                "BROKER_PUB": om_broker_process.pub_endpoint,
                "PYTHONUNBUFFERED": "1",
            }
        )
        full_env.update(env or {})
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "service_main.py"), *args],
            cwd=tmp_path,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        services.append(Service(proc))
        return services[-1]

    yield start
    for service in services:
        if service.proc.poll() is None:
            service.proc.kill()
        service.proc.wait(10)

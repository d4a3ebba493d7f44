"""Fixtures of the reliability scenarios: a real broker process, real service subprocesses running
``service.py``, a raw bus for injecting and observing traffic, and an RPC client of our own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from openmodule.config import settings
from openmodule.models.base import OpenModuleModel

HERE = Path(__file__).parent
SERVICE = HERE / "service.py"
ENV_KEYS = [
    "TESTING",
    "DEBUG",
    "NAME",
    "AUTH_RESOURCE",
    "BROKER_SUB",
    "BROKER_PUB",
    "BROKER_HOST",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SETTINGS_MODULE",
    "VERSION",
    "SENTRY_DSN",
]


class EchoRequest(OpenModuleModel):
    value: str = ""


class EchoResponse(OpenModuleModel):
    value: str
    name: str
    resource: str


class EmptyRequest(OpenModuleModel):
    pass


class BlockResponse(OpenModuleModel):
    released: bool


class StatsResponse(OpenModuleModel):
    message_drops: dict[str, int]
    receive_drops: dict[str, int]
    rpc_counts: dict[str, int]
    rss_kb: int
    internal_drops: dict[str, int] = {}
    queued: int = 0


def rss_kb(pid: int) -> int:
    """VmRSS of a process in kB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it is truthy (returns its value); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


class Service:
    """A service.py subprocess; stdout and stderr (the log) go to one file that the test reads."""

    def __init__(self, name: str, resource: str, log_path: Path, proc: subprocess.Popen[bytes]) -> None:
        self.name = name
        self.resource = resource
        self.log_path = log_path
        self.proc = proc

    @property
    def pid(self) -> int:
        return self.proc.pid

    def lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def has_line(self, prefix: str) -> bool:
        return any(line.startswith(prefix) for line in self.lines())

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """The first output line starting with ``prefix``; fails with the output if it does not come."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines():
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None or time.monotonic() > deadline:
                # one last read: the line may have been written just before the exit
                for line in self.lines():
                    if line.startswith(prefix):
                        return line
                raise AssertionError(
                    f"service {self.name}: no line starting with {prefix!r} (exit code {self.proc.poll()}); "
                    f"output:\n{self.log_path.read_text(errors='replace')[-5000:]}"
                )
            time.sleep(0.02)

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def log_bytes(self) -> int:
        """Bytes the service has written to its output (log and stdout) so far."""
        return self.log_path.stat().st_size

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait for the exit code (fails if it does not end within ``timeout``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TESTING", "true")
    monkeypatch.chdir(tmp_path)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def broker() -> Iterator[Any]:
    """A real broker process of this test only (scenarios restart and kill it).

    It forwards frames of any size, as a broker of another make or an older one may: the scenarios test
    what the service itself does with what reaches it (the broker's own limit has its own scenario).
    """
    from openmodule.broker import BrokerProcess

    with BrokerProcess(max_message_size=0) as handle:
        yield handle


@pytest.fixture
def rss_of() -> Callable[[int], int]:
    """``rss_of(pid)``: the resident memory of a process in kB (for processes that are not a ``Service``)."""
    return rss_kb


@pytest.fixture
def start_service(broker: Any, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start ``service.py`` with the venv python; waits for READY. Killed after the test if still running."""
    services: list[Service] = []

    def start(resource: str = "res_a", env: dict[str, str] | None = None, wait: bool = True) -> Service:
        name = f"rel_{uuid.uuid4().hex[:6]}"
        full_env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
        full_env.update(
            {
                "TESTING": "true",
                "NAME": name,
                "AUTH_RESOURCE": resource,
                "BROKER_SUB": broker.sub_endpoint,
                "BROKER_PUB": broker.pub_endpoint,
                "PYTHONUNBUFFERED": "1",
            }
        )
        full_env.update(env or {})
        log_path = tmp_path / f"{name}.log"
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, str(SERVICE)],
                cwd=tmp_path,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        service = Service(name, resource, log_path, proc)
        services.append(service)
        if wait:
            service.expect("READY")
        return service

    yield start
    for service in services:
        if service.proc.poll() is None:
            service.proc.kill()
        service.proc.wait(10)


class Bus:
    """Raw PUB/SUB sockets on the broker: inject anything (also malformed frames), observe topics."""

    def __init__(self, broker: Any) -> None:
        self.context = zmq.Context()
        self.sub = self.context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.connect(broker.pub_endpoint)
        self.pub = self.context.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.connect(broker.sub_endpoint)

    def subscribe(self, topic: str) -> None:
        self.sub.subscribe(topic.encode())

    def publish(self, message: Any, topic: str) -> None:
        from openmodule.messaging import encode_message

        self.pub.send_multipart([topic.encode(), encode_message(message)])

    def receive(self, timeout: float) -> tuple[str, dict[str, Any]] | None:
        """The next message of any subscribed topic, or None after ``timeout`` seconds."""
        import json

        if not self.sub.poll(int(timeout * 1000)):
            return None
        topic, body = self.sub.recv_multipart()
        return topic.decode(), json.loads(body)

    def health_pong(self, name: str, timeout: float = 10.0) -> tuple[dict[str, Any], int, float]:
        """Ping until ``name`` answers: (pong, pings sent, seconds). Pings may be lost under a flood."""
        self.subscribe("healthpong")
        start = time.monotonic()
        deadline = start + timeout
        pings = 0
        while time.monotonic() < deadline:
            pings += 1
            self.publish({"type": "ping", "name": "health_poller", "timestamp": time.time()}, "healthz")
            until = min(deadline, time.monotonic() + 0.5)
            while (remaining := until - time.monotonic()) > 0:
                got = self.receive(remaining)
                if got and got[0] == "healthpong" and got[1].get("name") == name:
                    return got[1], pings, time.monotonic() - start
        raise AssertionError(f"no health pong from {name} within {timeout:g} s ({pings} pings)")

    def close(self) -> None:
        self.sub.close()
        self.pub.close()
        self.context.term()


@pytest.fixture
def bus(broker: Any) -> Iterator[Bus]:
    b = Bus(broker)
    yield b
    b.close()


class Client:
    """An RPC client of the test process: Publisher + MessageLoop + RPCClient (the core's composition,
    without a Health on ``healthz``, so a flood there does not load the test process)."""

    def __init__(self) -> None:
        from openmodule.messaging import MessageLoop, Publisher
        from openmodule.rpc import RPCClient

        self.context = zmq.Context()
        self.publisher = Publisher(self.context)
        self.loop = MessageLoop(self.context, name="reliability-client").start()
        self.rpc = RPCClient(self.loop.dispatcher, self.publisher.publish, _warn=False)

    def echo(self, value: str, timeout: float = 5.0, channel: str = "rel") -> EchoResponse:
        return self.rpc.rpc(channel, "echo", EchoRequest(value=value), EchoResponse, timeout=timeout)

    def echo_non_blocking(self, value: str, timeout: float = 5.0) -> Any:
        return self.rpc.rpc_non_blocking("rel", "echo", EchoRequest(value=value), timeout=timeout)

    def echo_retry(
        self, value: str, deadline: float = 10.0, timeout: float = 1.0
    ) -> tuple[EchoResponse, int, float]:
        """Call echo until it answers: (response, attempts, seconds). Requests may be lost under a flood."""
        from openmodule.rpc import RPCClient

        start = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                return self.echo(value, timeout=timeout), attempts, time.monotonic() - start
            except RPCClient.TimeoutError:
                if time.monotonic() - start > deadline:
                    raise

    def block(self, timeout: float = 60.0) -> Any:
        """Start ``rel_slow/block`` (it blocks until ``release()``); returns the RPCEntry."""
        return self.rpc.rpc_non_blocking("rel_slow", "block", EmptyRequest(), timeout=timeout)

    def block_result(self, entry: Any) -> BlockResponse:
        return entry.result(BlockResponse)  # type: ignore[no-any-return]

    def release(self) -> BlockResponse:
        return self.rpc.rpc("rel", "release", EmptyRequest(), BlockResponse, timeout=10)

    def stats(self) -> StatsResponse:
        return self.rpc.rpc("rel", "stats", EmptyRequest(), StatsResponse, timeout=5)

    def close(self) -> None:
        self.rpc.shutdown()
        self.loop.stop()
        self.publisher.close()
        self.context.term()


@pytest.fixture
def client(broker: Any) -> Iterator[Client]:
    """Our own RPC client on the test broker (settings: NAME and the broker endpoints)."""
    settings.configure(types.SimpleNamespace())
    settings.override(NAME="rel_client", BROKER_SUB=broker.sub_endpoint, BROKER_PUB=broker.pub_endpoint)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        c = Client()
    yield c
    c.close()

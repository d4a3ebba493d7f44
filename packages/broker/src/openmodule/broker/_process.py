"""The broker as a real subprocess on loopback ports, for tests and the demo."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from typing import IO

_ANY_PORT = "tcp://127.0.0.1:*"


class BrokerStartError(RuntimeError):
    """The broker subprocess did not report that it is ready."""


class BrokerProcess:
    """Runs ``python -m openmodule.broker`` as a child process; free loopback ports by default.

    Usage::

        with BrokerProcess() as broker:
            settings.override(BROKER_SUB=broker.sub_endpoint, BROKER_PUB=broker.pub_endpoint)
            ...
            broker.restart()    # same ports; connected services reconnect on their own

    The child binds wildcard ports itself and reports the bound endpoints, so there is no window in which
    another process could take a port picked in advance. It also stops when its stdin (a pipe from this
    process) closes, so it does not outlive a test process that dies without stopping it.
    """

    def __init__(
        self,
        sub: str | None = None,
        pub: str | None = None,
        *,
        start_timeout: float = 10.0,
        max_message_size: int | None = None,
    ) -> None:
        self.sub_endpoint = sub or _ANY_PORT
        self.pub_endpoint = pub or _ANY_PORT
        self.start_timeout = start_timeout
        #: ``--max-message-size`` of the child (None: its ``MAX_MESSAGE_SIZE`` environment, else 4 MiB).
        self.max_message_size = max_message_size
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> BrokerProcess:
        """Start the child and wait until both sides are bound (retries while a port is still taken)."""
        assert self.process is None or self.process.poll() is not None, "broker process already running"
        deadline = time.monotonic() + self.start_timeout
        last_error = ""
        command = [sys.executable, "-m", "openmodule.broker", "--sub", self.sub_endpoint, "--pub"]
        command += [self.pub_endpoint, "--exit-with-stdin"]
        if self.max_message_size is not None:
            command += ["--max-message-size", str(self.max_message_size)]
        while True:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # the broker's log goes where ours goes
            )
            assert proc.stdout is not None
            line = _read_line(proc.stdout, deadline)
            if line.startswith("READY "):
                fields = dict(part.split("=", 1) for part in line.split()[1:])
                self.sub_endpoint, self.pub_endpoint = fields["sub"], fields["pub"]
                self.process = proc
                return self
            _terminate(proc)
            last_error = line or last_error or "no READY line"
            if time.monotonic() >= deadline:
                raise BrokerStartError(
                    f"broker on {self.sub_endpoint} / {self.pub_endpoint} did not start: {last_error}"
                )
            time.sleep(0.1)  # a port of a restarted broker may be released a moment later

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, wait for the clean shutdown (SIGKILL after ``timeout``). Idempotent."""
        proc, self.process = self.process, None
        if proc is not None:
            _terminate(proc, timeout)

    def kill(self) -> None:
        """SIGKILL: the broker vanishes without closing anything (a crash)."""
        proc, self.process = self.process, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            _close(proc)

    def restart(self) -> None:
        """Stop and start again on the same endpoints."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> BrokerProcess:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_broker_process(
    sub: str | None = None, pub: str | None = None, *, max_message_size: int | None = None
) -> BrokerProcess:
    """Start a broker subprocess (free loopback ports unless given) and return its handle.

    Usage::

        broker = start_broker_process()
        settings.override(BROKER_SUB=broker.sub_endpoint, BROKER_PUB=broker.pub_endpoint)
        ...
        broker.stop()
    """
    return BrokerProcess(sub, pub, max_message_size=max_message_size).start()


def _read_line(stream: IO[bytes], deadline: float) -> str:
    fd = stream.fileno()
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
    return buf.split(b"\n", 1)[0].decode(errors="replace").strip()


def _terminate(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _close(proc)


def _close(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()

"""The broker: an XSUB/XPUB proxy that forwards in C (``zmq.proxy_steerable``)."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import zmq

log = logging.getLogger("openmodule.broker")


def _frame_limit(requested: int | None) -> int:
    """ZeroMQ's ``MAXMSGSIZE`` for ``requested`` bytes (None: the ``MAX_MESSAGE_SIZE`` setting); -1: none."""
    if requested is None:
        from openmodule.config import GlobalSettings

        requested = int(GlobalSettings.MAX_MESSAGE_SIZE)
    return requested if requested > 0 else -1


class Broker:
    """The message bus: services' PUB sockets connect to ``sub_endpoint`` (XSUB), their SUB sockets to
    ``pub_endpoint`` (XPUB); the proxy forwards messages one way and subscriptions the other.

    Usage::

        broker = Broker("tcp://127.0.0.1:10100", "tcp://127.0.0.1:10200")
        broker.start()          # binds now (errors raise here), forwards in a thread
        ...
        broker.stop()

    Endpoints may use a wildcard port (``tcp://127.0.0.1:*``); after ``start()`` the properties
    ``sub_endpoint``/``pub_endpoint`` hold the bound addresses.

    ``max_message_size`` is the largest frame (bytes) a publisher may send; ZeroMQ checks the size before it
    reads the frame and drops that publisher's connection (its PUB socket connects again by itself). Default:
    the ``MAX_MESSAGE_SIZE`` environment variable, else 4 MiB, as for the services' SUB sockets; 0 or less
    switches the limit off (``max_message_size`` is then -1).
    """

    def __init__(
        self,
        sub_endpoint: str,
        pub_endpoint: str,
        *,
        context: zmq.Context[Any] | None = None,
        max_message_size: int | None = None,
    ) -> None:
        self._requested = (sub_endpoint, pub_endpoint)
        self.max_message_size = _frame_limit(max_message_size)
        self.sub_endpoint = sub_endpoint
        self.pub_endpoint = pub_endpoint
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._thread: threading.Thread | None = None
        self._control: zmq.Socket[Any] | None = None
        self._lock = threading.Lock()
        self._error: BaseException | None = None

    def _bind(self) -> tuple[zmq.Socket[Any], zmq.Socket[Any], zmq.Socket[Any], str]:
        xsub = self._context.socket(zmq.XSUB)
        xpub = self._context.socket(zmq.XPUB)
        control = self._context.socket(zmq.PAIR)
        control_endpoint = f"inproc://openmodule-broker-control-{uuid.uuid4().hex}"
        try:
            for sock in (xsub, xpub, control):
                sock.setsockopt(zmq.LINGER, 0)
            # Services queue up to their own HWM; the broker must not be the narrow point in between.
            xsub.setsockopt(zmq.RCVHWM, 100_000)
            xpub.setsockopt(zmq.SNDHWM, 100_000)
            # Up to 100k queued frames per subscriber: without a size limit one publisher of big frames
            # could make the broker (and every subscriber) hold gigabytes.
            xsub.setsockopt(zmq.MAXMSGSIZE, self.max_message_size)
            xsub.bind(self._requested[0])
            xpub.bind(self._requested[1])
            control.bind(control_endpoint)
        except BaseException:
            for sock in (xsub, xpub, control):
                sock.close(0)
            raise
        self.sub_endpoint = xsub.getsockopt_string(zmq.LAST_ENDPOINT)
        self.pub_endpoint = xpub.getsockopt_string(zmq.LAST_ENDPOINT)
        return xsub, xpub, control, control_endpoint

    def start(self) -> None:
        """Bind both sides (raises ``zmq.ZMQError`` if a port is taken) and forward in a daemon thread."""
        with self._lock:
            assert self._thread is None, "broker already started"
            xsub, xpub, control, control_endpoint = self._bind()
            self._control = self._context.socket(zmq.PAIR)
            self._control.setsockopt(zmq.LINGER, 0)
            self._control.connect(control_endpoint)
            self._thread = threading.Thread(
                target=self._serve, args=(xsub, xpub, control), name="openmodule-broker", daemon=True
            )
            self._thread.start()
            log.info(
                "broker forwarding %s (XSUB) -> %s (XPUB), frames up to %s",
                self.sub_endpoint,
                self.pub_endpoint,
                "any size" if self.max_message_size < 0 else f"{self.max_message_size} bytes",
            )

    def _serve(self, xsub: zmq.Socket[Any], xpub: zmq.Socket[Any], control: zmq.Socket[Any]) -> None:
        try:
            zmq.proxy_steerable(xsub, xpub, None, control)
        except zmq.ContextTerminated:
            pass
        except BaseException as exc:  # pragma: no cover - logged for the operator, stop() re-raises
            self._error = exc
            log.exception("broker proxy failed")
        finally:
            for sock in (xsub, xpub, control):
                sock.close(0)

    def run(self) -> None:
        """Bind and forward in the calling thread until ``stop()`` is called from another thread."""
        self.start()
        self.join()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the proxy, close the sockets and wait for the thread. Idempotent."""
        with self._lock:
            thread, control = self._thread, self._control
            self._thread, self._control = None, None
            if thread is None or control is None:
                return
            try:
                control.send(b"TERMINATE")
            finally:
                thread.join(timeout)
                control.close(0)
                if self._own_context:
                    self._context.term()
                    self._context = zmq.Context()

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

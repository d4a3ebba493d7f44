"""``ReceiveLoop``: one SUB socket served by one thread (the engine of ``MessageLoop`` and ``RPCServer``)."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import zmq

from openmodule.config import ServiceConfig
from openmodule.dispatcher import DropLog
from openmodule.messaging._drain import drain_socket, wait_for_input
from openmodule.messaging._sockets import BrokerLink, get_sub_socket
from openmodule.messaging._wire import receive_drops

__all__ = ["ReceiveLoop"]

#: ``handle(topic, message)``: called in the loop thread for every decoded message.
Handle = Callable[[str, dict[str, Any]], None]
Hook = Callable[[], None]


class ReceiveLoop:
    """One SUB socket served by one thread: queued subscription changes, a wake pipe, the poll, the close.

    Only the loop thread touches the socket (ZeroMQ sockets are not thread-safe): other threads queue
    subscription changes with :meth:`subscribe` / :meth:`unsubscribe`, and a pipe wakes the loop so they
    take effect at once. Every decoded message goes to ``handle(topic, message)`` in the loop thread; bad
    input is counted in ``drops`` (default: ``openmodule.messaging.receive_drops``), logged rate-limited and
    dropped. ``BrokerLink`` connects again after an oversized frame made ZeroMQ give the connection up.

    Usage::

        loop = ReceiveLoop(context, settings, on_message, name="my-loop")
        loop.subscribe("topic")        # from any thread
        loop.start()                   # or loop.run() in the calling thread
        ...
        loop.stop()

    ``wanted(topic)`` skips messages on longer topics that a prefix subscription also delivers, before
    they are decoded. ``poll_timeout_ms`` bounds one wait (None: until input or a wake-up). The hooks run in
    the loop thread: ``on_start`` before serving, ``after_drain`` after every drained batch (before the
    thread blocks again), ``on_end`` when serving ends, ``on_context_terminated`` when the ZeroMQ context
    is terminated under the loop.
    """

    def __init__(
        self,
        context: zmq.Context[Any],
        config: ServiceConfig,
        handle: Handle,
        *,
        name: str,
        wanted: Callable[[str], bool] | None = None,
        drops: DropLog | None = None,
        poll_timeout_ms: int | None = None,
        on_start: Hook | None = None,
        after_drain: Hook | None = None,
        on_end: Hook | None = None,
        on_context_terminated: Hook | None = None,
    ) -> None:
        self.name = name
        self.socket = get_sub_socket(context, config)
        # Connects again after a frame above MAX_MESSAGE_SIZE made ZeroMQ drop the connection for good.
        self.link = BrokerLink(self.socket, config.BROKER_PUB, drops or receive_drops)
        self._handle = handle
        self._wanted = wanted
        self._drops = drops
        self._poll_timeout_ms = poll_timeout_ms
        self._on_start = on_start
        self._after_drain = after_drain
        self._on_end = on_end
        self._on_context_terminated = on_context_terminated
        self._ops: deque[tuple[int, bytes]] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        # Guards the wake pipe's lifetime: a write to a closed (and reused) fd would hit another file.
        self._wake_lock = threading.Lock()
        self._stopping = False
        self._closed = False
        self.thread: threading.Thread | None = None

    # -- subscriptions (any thread) -------------------------------------------------------------------
    def subscribe(self, topic: str) -> None:
        """Subscribe to ``topic`` (a prefix, as ZeroMQ matches); applied by the loop thread."""
        self._queue(zmq.SUBSCRIBE, topic)

    def unsubscribe(self, topic: str) -> None:
        """Drop one subscription to ``topic``; applied by the loop thread."""
        self._queue(zmq.UNSUBSCRIBE, topic)

    def _queue(self, option: int, topic: str) -> None:
        self._ops.append((option, topic.encode("utf-8")))
        self._wake()

    def _wake(self) -> None:
        with self._wake_lock:
            if self._closed:
                return
            try:
                os.write(self._wake_w, b"\0")
            except OSError:  # pipe full: the loop is awake already
                pass

    def _apply_ops(self) -> None:
        while self._ops:
            option, topic = self._ops.popleft()
            self.socket.setsockopt(option, topic)

    # -- serving --------------------------------------------------------------------------------------
    def run(self) -> None:
        """Serve the socket in the calling thread until ``stop()``; the socket is closed when it returns."""
        socket = self.socket
        link = self.link
        wake_r = self._wake_r
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(wake_r, zmq.POLLIN)
        poller.register(link.monitor, zmq.POLLIN)
        handle, wanted, drops = self._handle, self._wanted, self._drops
        timeout, after_drain = self._poll_timeout_ms, self._after_drain

        def stopping() -> bool:  # stop() means later messages are dropped, even mid-batch
            return self._stopping

        if self._on_start is not None:
            self._on_start()
        try:
            self._apply_ops()
            while not self._stopping:
                drained = drain_socket(socket, handle, drops, stopping, wanted=wanted)
                if after_drain is not None:
                    after_drain()
                if self._ops:
                    self._apply_ops()
                if drained and not self._stopping:
                    wait_for_input(poller, wake_r, timeout, link)
        except zmq.ContextTerminated:
            if self._on_context_terminated is not None:
                self._on_context_terminated()
        finally:
            if self._on_end is not None:
                self._on_end()
            self._close()

    def start(self) -> threading.Thread:
        """Serve the socket in a daemon thread ``openmodule-<name>`` (only once); returns the thread."""
        assert self.thread is None, f"the {self.name} loop runs already"
        self.thread = threading.Thread(target=self.run, name=f"openmodule-{self.name}", daemon=True)
        self.thread.start()
        return self.thread

    @property
    def running(self) -> bool:
        """True while the loop thread serves the socket."""
        return self.thread is not None and self.thread.is_alive()

    # -- stopping -------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Tell the loop to stop (messages not yet handled are dropped); returns at once."""
        self._stopping = True
        self._wake()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the loop thread; a loop that never ran closes its socket here."""
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is None:
            self._close()

    def stop(self, timeout: float = 5) -> None:
        """``request_stop()``, then ``join(timeout)``."""
        self.request_stop()
        self.join(timeout)

    def _close(self) -> None:
        with self._wake_lock:
            if self._closed:
                return
            self._closed = True
            self.link.close()
            self.socket.close(0)
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)

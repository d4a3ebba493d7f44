from __future__ import annotations

import logging
import os
import threading
from collections import deque
from concurrent.futures import Executor
from typing import Any

import zmq

from openmodule.config import ServiceConfig
from openmodule.dispatcher import SubscribingMessageDispatcher, handler_queue_limit
from openmodule.messaging._drain import drain_socket, wait_for_input
from openmodule.messaging._sockets import BrokerLink, get_sub_socket

log = logging.getLogger("openmodule.messaging")


class MessageLoop:
    """One SUB socket served by one thread, with a dispatcher usable from any thread.

    Usage::

        loop = MessageLoop(zmq.Context.instance(), settings, name="messages")
        loop.dispatcher.register_handler("topic", DemoMessage, on_demo)   # from any thread
        loop.start()
        ...
        loop.stop()

    Subscription changes are queued and applied by the loop thread (ZeroMQ sockets are not thread-safe);
    a pipe wakes the loop so they take effect at once. Bad input is logged (rate-limited), counted in
    ``dispatcher.drops.counts`` and dropped.
    """

    def __init__(
        self,
        context: zmq.Context[Any],
        config: ServiceConfig | None = None,
        *,
        name: str = "messages",
        executor: Executor | None = None,
        raise_validation_errors: bool = False,
        raise_handler_errors: bool = False,
        queue_limit: int | None = None,
    ) -> None:
        self.name = name
        if config is None:
            from openmodule.config import settings

            config = settings
        self.socket = get_sub_socket(context, config)
        self._ops: deque[tuple[int, bytes]] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._close_lock = threading.Lock()
        self.dispatcher = SubscribingMessageDispatcher(
            lambda topic: self._queue(zmq.SUBSCRIBE, topic),
            name,
            unsubscribe=lambda topic: self._queue(zmq.UNSUBSCRIBE, topic),
            executor=executor,
            # The HANDLER_QUEUE_LIMIT of this loop's config (a plain namespace: the global default).
            queue_limit=handler_queue_limit(config) if queue_limit is None else queue_limit,
            raise_validation_errors=raise_validation_errors,
            raise_handler_errors=raise_handler_errors,
        )
        # Connects again after a frame above MAX_MESSAGE_SIZE made ZeroMQ drop the connection for good.
        self.link = BrokerLink(self.socket, config.BROKER_PUB, self.dispatcher.drops)

    @property
    def drops(self) -> dict[str, int]:
        """Dropped messages by reason (frame_count, invalid_json, validation_error, handler_error, ...)."""
        return self.dispatcher.drops.snapshot()

    def _queue(self, option: int, topic: str) -> None:
        self._ops.append((option, topic.encode("utf-8")))
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):  # pipe full (already awake) or closed (stopped)
            pass

    def _apply_ops(self) -> None:
        while self._ops:
            option, topic = self._ops.popleft()
            self.socket.setsockopt(option, topic)

    def run(self) -> None:
        """Serve the socket in the calling thread until ``stop()``."""
        socket = self.socket
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        link = self.link
        poller.register(link.monitor, zmq.POLLIN)
        dispatch = self.dispatcher.dispatch
        drops = self.dispatcher.drops
        wake_r = self._wake_r

        def stopping() -> bool:  # stop() means later messages are dropped, even mid-batch
            return self._stopping

        dispatcher = self.dispatcher
        wanted = dispatcher.has_listeners_for  # longer topics our prefix subscriptions also deliver
        dispatcher.begin_bursts()
        try:
            self._apply_ops()
            while not self._stopping:
                drained = drain_socket(socket, dispatch, drops, stopping, wanted=wanted)
                dispatcher.flush_burst()
                if self._ops:
                    self._apply_ops()
                if drained and not self._stopping:
                    wait_for_input(poller, wake_r, link=link)
        except zmq.ContextTerminated:
            pass
        finally:
            dispatcher.end_bursts()
            self._close()

    def start(self) -> MessageLoop:
        """Serve the socket in a daemon thread named after the loop."""
        assert self._thread is None, "message loop already started"
        self._thread = threading.Thread(target=self.run, name=f"openmodule-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        """Stop the thread, shut the dispatcher down (later messages are dropped) and close the socket."""
        self._stopping = True
        self._wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is None:
            self._close()
        self.dispatcher.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self.link.close()
            self.socket.close(0)
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)

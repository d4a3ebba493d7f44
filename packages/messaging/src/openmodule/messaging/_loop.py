from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

import zmq

from openmodule.config import ServiceConfig
from openmodule.dispatcher import SubscribingMessageDispatcher, handler_queue_limit
from openmodule.messaging._receive import ReceiveLoop

log = logging.getLogger("openmodule.messaging")


class MessageLoop:
    """One SUB socket served by one thread, with a dispatcher usable from any thread.

    Usage::

        loop = MessageLoop(zmq.Context.instance(), settings, name="messages")
        loop.dispatcher.register_handler("topic", DemoMessage, on_demo)   # from any thread
        loop.start()
        ...
        loop.stop()

    A ``ReceiveLoop`` serves the socket: subscription changes are queued and applied by the loop thread
    (ZeroMQ sockets are not thread-safe); a pipe wakes the loop so they take effect at once. Bad input is
    logged (rate-limited), counted in ``dispatcher.drops.counts`` and dropped.
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
        self.dispatcher = SubscribingMessageDispatcher(
            lambda topic: self._receiver.subscribe(topic),
            name,
            unsubscribe=lambda topic: self._receiver.unsubscribe(topic),
            executor=executor,
            # The HANDLER_QUEUE_LIMIT of this loop's config (a plain namespace: the global default).
            queue_limit=handler_queue_limit(config) if queue_limit is None else queue_limit,
            raise_validation_errors=raise_validation_errors,
            raise_handler_errors=raise_handler_errors,
        )
        dispatcher = self.dispatcher
        self._receiver = ReceiveLoop(
            context,
            config,
            dispatcher.dispatch,
            name=name,
            wanted=dispatcher.has_listeners_for,  # longer topics our prefix subscriptions also deliver
            drops=dispatcher.drops,
            on_start=dispatcher.begin_bursts,
            after_drain=dispatcher.flush_burst,  # handlers' after_burst work runs before the loop blocks
            on_end=dispatcher.end_bursts,
        )
        self.socket = self._receiver.socket
        # Connects again after a frame above MAX_MESSAGE_SIZE made ZeroMQ drop the connection for good.
        self.link = self._receiver.link

    @property
    def drops(self) -> dict[str, int]:
        """Dropped messages by reason (frame_count, invalid_json, validation_error, handler_error, ...)."""
        return self.dispatcher.drops.snapshot()

    def run(self) -> None:
        """Serve the socket in the calling thread until ``stop()``."""
        self._receiver.run()

    def start(self) -> MessageLoop:
        """Serve the socket in a daemon thread named after the loop."""
        self._receiver.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        """Stop the thread, shut the dispatcher down (later messages are dropped) and close the socket."""
        self._receiver.stop(timeout)
        self.dispatcher.shutdown(wait=False)

    @property
    def running(self) -> bool:
        """True while the loop thread serves the socket."""
        return self._receiver.running

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import zmq
from pydantic import BaseModel

from openmodule.config import ServiceConfig
from openmodule.messaging._sockets import _pub_socket
from openmodule.messaging._wire import encode_message


class Publisher:
    """The single, thread-safe PUB socket of a service, connected to ``config.BROKER_SUB``.

    Usage::

        publisher = Publisher(zmq.Context.instance(), settings)
        publisher.publish(ZMQMessage(type="demo"), "topic")
        publisher.close()
    """

    def __init__(
        self, context: zmq.Context[Any], config: ServiceConfig | None = None, *, linger: int = 1000
    ) -> None:
        if config is None:
            from openmodule.config import settings

            config = settings
        self.config = config
        self._socket = _pub_socket(context, config, linger)
        self._lock = threading.Lock()
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._closed = False

    def publish(self, message: BaseModel | dict[str, Any], topic: str) -> None:
        """Send ``message`` (a model or a dict) on ``topic``; safe from any thread."""
        assert isinstance(topic, str), f"topic must be a str, not {type(topic).__name__}"
        frames = (topic.encode("utf-8"), encode_message(message))  # encode outside the lock
        if self._closed:
            raise RuntimeError("publisher is closed")
        # Combining: the thread that holds the socket sends what others queued meanwhile, so a
        # publishing thread never sleeps on the lock while another one is inside a send (a send
        # releases the GIL; with many publishing threads, waiting for the lock cost two thread
        # switches per message). Each thread's messages keep their order.
        queue = self._queue
        queue.append(frames)
        lock = self._lock
        while queue and lock.acquire(False):
            try:
                self._flush()
            finally:
                lock.release()

    def send_multipart(self, frames: Any) -> None:
        """Send ready-made ``[topic, body]`` frames; thread-safe.

        For code written against a PUB socket (``message.publish_on_topic(server.pub, "topic")``).
        """
        frames = list(frames)
        if len(frames) != 2:
            raise ValueError(f"an openmodule message is two frames (topic, JSON body), not {len(frames)}")
        if self._closed:
            raise RuntimeError("publisher is closed")
        queue = self._queue
        queue.append((bytes(frames[0]), bytes(frames[1])))
        lock = self._lock
        while queue and lock.acquire(False):
            try:
                self._flush()
            finally:
                lock.release()

    def refresh_subscriptions(self) -> None:
        """Make the socket take in the subscriptions the broker has forwarded to it; thread-safe.

        Usage (before answering a request)::  ``publisher.refresh_subscriptions()``

        A PUB socket drops what matches no subscription it knows, and ZeroMQ reads newly forwarded
        subscriptions only now and then while sending (at most about once per millisecond): a message
        on a topic subscribed a moment ago, sent right after another message, is lost. Call this before
        a send that answers such a subscription (an RPC response: the caller subscribes its reply topic
        just before its first request). It costs about one microsecond.
        """
        with self._lock:
            if self._closed:
                return
            try:
                self._socket.getsockopt(zmq.EVENTS)  # processes the socket's pending commands
            except zmq.ZMQError:  # terminated context: nothing will be sent anyway
                pass

    def _flush(self) -> None:
        # Holding the lock. The two sends send_multipart() would make, without its per-call type
        # checks of the frames (both are bytes here); the frames on the wire are the same.
        queue = self._queue
        send = self._socket.send
        while queue:
            if self._closed:
                queue.clear()
                return
            raw_topic, body = queue.popleft()
            send(raw_topic, zmq.SNDMORE)
            send(body)

    __call__ = publish

    def close(self, linger: int | None = None) -> None:
        """Close the socket (queued messages are sent for up to LINGER ms). Idempotent."""
        with self._lock:
            if not self._closed:
                try:
                    self._flush()  # what other threads queued before the close goes out, too
                except zmq.ZMQError:  # the context is terminated: nothing can be sent, close anyway
                    self._queue.clear()
                self._closed = True
                self._socket.close(linger)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_publisher(publish: object) -> Publisher | None:
    """The ``Publisher`` behind a publish callable: the publisher itself, its bound ``publish``, or the
    ``publisher`` of the object the callable is bound to (``core.publish``); ``None`` if there is none.

    Usage::  ``publisher = find_publisher(core.publish)``
    """
    if isinstance(publish, Publisher):
        return publish
    owner = getattr(publish, "__self__", None)
    if isinstance(owner, Publisher):
        return owner
    candidate = getattr(owner, "publisher", None)
    return candidate if isinstance(candidate, Publisher) else None

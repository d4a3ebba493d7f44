from __future__ import annotations

import threading
from typing import Any

import zmq
from openmodule.messaging._sockets import _pub_socket
from openmodule.messaging._wire import encode_message
from pydantic import BaseModel


class Publisher:
    """The single, thread-safe PUB socket of a service, connected to ``config.BROKER_SUB``.

    Usage::

        publisher = Publisher(zmq.Context.instance(), settings)
        publisher.publish(ZMQMessage(type="demo"), "topic")
        publisher.close()
    """

    def __init__(self, context: zmq.Context, config: Any = None, *, linger: int = 1000) -> None:
        if config is None:
            from openmodule.config import settings as config
        self.config = config
        self._socket = _pub_socket(context, config, linger)
        self._lock = threading.Lock()
        self._closed = False

    def publish(self, message: BaseModel | dict[str, Any], topic: str) -> None:
        """Send ``message`` (a model or a dict) on ``topic``; safe from any thread."""
        assert isinstance(topic, str), f"topic must be a str, not {type(topic).__name__}"
        raw_topic = topic.encode("utf-8")
        body = encode_message(message)  # encode outside the lock
        with self._lock:
            if self._closed:
                raise RuntimeError("publisher is closed")
            # The two sends send_multipart() would make, without its per-call type checks of the frames
            # (both are bytes here); the frames on the wire are the same.
            send = self._socket.send
            send(raw_topic, zmq.SNDMORE)
            send(body)

    __call__ = publish

    def close(self, linger: int | None = None) -> None:
        """Close the socket (queued messages are sent for up to LINGER ms). Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._socket.close(linger)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from openmodule.messaging._running import running_core
from openmodule.models.base import ZMQMessage

PING_PREFIX = "__ping"


def wait_for_connection(
    publisher: Any,
    loop_or_dispatcher: Any = None,
    *args: Any,
    timeout: float | None = None,
    pub_socket: Any = None,
    pub_lock: Any = None,
) -> None:
    """Block until a message published by ``publisher`` comes back through ``loop_or_dispatcher``.

    Usage::

        wait_for_connection(publisher, loop, timeout=10)      # publisher: Publisher or publish(msg, topic)

    The dispatcher must be served by another thread. Pings go to ``__ping_<10 letters>`` every 0.1 s;
    raises ``TimeoutError`` if none returns in ``timeout`` seconds. The 12.x form
    ``wait_for_connection(dispatcher, pub_socket=None, pub_lock=None, timeout=100)`` is accepted as well
    (without a socket the pings go out through the running core).
    """
    if hasattr(publisher, "register_handler"):  # 12.x argument order: (dispatcher, pub_socket, pub_lock, ...)
        dispatcher, sock = publisher, pub_socket if pub_socket is not None else loop_or_dispatcher
        if args:  # positional (dispatcher, pub_socket, pub_lock, timeout)
            pub_lock = args[0] if pub_lock is None else pub_lock
            if len(args) > 1 and timeout is None:
                timeout = args[1]
        publish: Callable[[ZMQMessage, str], object]
        if sock is None:  # 12.x: without a socket the running core's publisher is used
            publish = running_core("wait_for_connection(dispatcher) without a PUB socket").publish
        else:
            lock = pub_lock or threading.Lock()

            def publish_on_socket(message: ZMQMessage, topic: str) -> None:
                with lock:
                    message.publish_on_topic(sock, topic)

            publish = publish_on_socket
    else:
        dispatcher = getattr(loop_or_dispatcher, "dispatcher", loop_or_dispatcher)
        publish = getattr(publisher, "publish", publisher)
        if args and timeout is None:
            timeout = args[0]
    timeout = 100.0 if timeout is None else float(timeout)
    assert dispatcher is not None, "pass the dispatcher (or MessageLoop) that receives the pings"

    topic = PING_PREFIX + "_" + "".join(random.choices(string.ascii_letters, k=10))
    arrived = threading.Event()
    handle = dispatcher.register_handler(
        topic, ZMQMessage, lambda _: arrived.set(), match_type=False, register_schema=False
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            publish(ZMQMessage(type="connection-check"), topic)
            if arrived.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError("could not connect to the message broker in time")
    finally:
        dispatcher.unregister_handler(handle)

from __future__ import annotations

import logging
import struct
from typing import Any

import zmq

from openmodule.config import ServiceConfig
from openmodule.dispatcher._drops import DropLog

#: Default of the ``MAX_MESSAGE_SIZE`` setting: the largest frame (bytes) a SUB socket accepts.
DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024

#: How long a loop waits, after its connection dropped, for ZeroMQ to say it reconnects by itself (it says
#: so at once, in the same step, when the broker went away; after a frame above the limit it never does).
_RETRY_NOTICE_MS = 50


def _keepalive(socket: zmq.Socket[Any]) -> None:
    # Dead peers behind NAT/firewalls are noticed only with TCP keep-alive (18.x: idle 3600 s).
    socket.setsockopt(zmq.TCP_KEEPALIVE, 1)
    socket.setsockopt(zmq.TCP_KEEPALIVE_IDLE, 3600)


def max_message_size(config: ServiceConfig | None = None) -> int:
    """The ``MAX_MESSAGE_SIZE`` setting of ``config`` (default: the settings) in bytes; -1 for no limit.

    Usage::  ``max_message_size(settings)``  ->  ``4194304``

    A config without the name (a plain namespace) gets the global default (environment variable
    ``MAX_MESSAGE_SIZE``, else 4 MiB). Zero or a negative value switches the limit off.
    """
    if config is None:
        from openmodule.config import settings

        config = settings
    value: Any = getattr(config, "MAX_MESSAGE_SIZE", None)
    if value is None:
        from openmodule.config import GlobalSettings

        value = getattr(GlobalSettings, "MAX_MESSAGE_SIZE", DEFAULT_MAX_MESSAGE_SIZE)
    size = int(value)
    return size if size > 0 else -1


def get_sub_socket(
    context: zmq.Context[Any], config: ServiceConfig | None = None, linger: int = 0
) -> zmq.Socket[Any]:
    """A SUB socket connected to ``config.BROKER_PUB`` (default: the settings), accepting frames up to
    ``MAX_MESSAGE_SIZE`` bytes.

    Usage::  ``sub = get_sub_socket(zmq.Context.instance(), settings)``

    ZeroMQ checks a frame's size before it allocates it and drops the connection to a peer that sends a
    bigger one (and does not reconnect: ``BrokerLink`` does that for the loops of this package).
    """
    if config is None:
        from openmodule.config import settings

        config = settings
    socket: zmq.Socket[Any] = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, linger)
    socket.setsockopt(zmq.MAXMSGSIZE, max_message_size(config))
    _keepalive(socket)
    socket.connect(config.BROKER_PUB)
    return socket


def get_pub_socket(
    context: zmq.Context[Any], config: ServiceConfig | None = None, linger: int = 100
) -> zmq.Socket[Any]:
    """A PUB socket connected to ``config.BROKER_SUB`` (default: the settings), for code that keeps its own.

    Usage::  ``pub = get_pub_socket(zmq.Context.instance(), settings)``

    A service normally publishes through ``core().publish`` (one thread-safe socket per service); every
    PUB socket receives and keeps all subscriptions of the bus, so open few of them. Not thread-safe.
    """
    if config is None:
        from openmodule.config import settings

        config = settings
    return _pub_socket(context, config, linger)


def _pub_socket(context: zmq.Context[Any], config: ServiceConfig, linger: int) -> zmq.Socket[Any]:
    socket: zmq.Socket[Any] = context.socket(zmq.PUB)
    socket.setsockopt(zmq.LINGER, linger)
    _keepalive(socket)
    socket.connect(config.BROKER_SUB)
    return socket


class BrokerLink:
    """Keeps a SUB socket of ``get_sub_socket`` connected to the broker after a frame above its limit.

    Usage (in the socket's receiving thread)::

        link = BrokerLink(sub, settings.BROKER_PUB, drops)
        poller.register(link.monitor, zmq.POLLIN)
        ...
        wait_for_input(poller, wake_r, link=link)   # after the socket ran dry: see below
        ...
        link.close()                                # before the socket is closed

    ZeroMQ drops a connection whose peer sends a frame above ``MAXMSGSIZE`` as a protocol error and never
    connects again; the socket would stay silent for good. ``handle_events`` reads the socket's monitor:
    when a connection dropped and ZeroMQ does not announce a retry of its own (it does at once when the
    broker went away), it counts the drop as ``oversized_frame`` in ``drops`` (logged rate-limited at
    WARNING) and marks the link ``lost``; ``reconnect()`` then connects again and the subscriptions are
    sent anew. Messages queued for the socket at the broker at that moment are lost with the connection.

    ``reconnect()`` must only run when the socket has just run dry (a receive raised ``zmq.Again``), as
    ``wait_for_input`` does before it polls: a poll reads the first frame of a waiting message ahead, and
    cutting the old connection under a half-read message makes ZeroMQ abort the process (``!_more``).
    """

    def __init__(
        self, socket: zmq.Socket[Any], endpoint: str, drops: DropLog, limit: int | None = None
    ) -> None:
        self.socket = socket
        self.endpoint = endpoint
        self.drops = drops
        self.limit: int = int(socket.getsockopt(zmq.MAXMSGSIZE)) if limit is None else limit
        self.monitor: zmq.Socket[Any] = socket.get_monitor_socket(
            zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED
        )
        self.reconnects = 0
        #: True between a connection ZeroMQ gave up and ``reconnect()``.
        self.lost = False
        self._closed = False

    def _events(self) -> tuple[bool, bool]:
        """(a connection dropped, ZeroMQ announced a retry) among the waiting monitor events."""
        dropped = retried = False
        while True:
            try:
                frames = self.monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return dropped, retried
            if len(frames) != 2 or len(frames[0]) != 6:
                continue
            event = struct.unpack("=hi", frames[0])[0]
            if event == zmq.EVENT_DISCONNECTED:
                dropped, retried = True, False
            elif event == zmq.EVENT_CONNECT_RETRIED:
                retried = True

    def handle_events(self) -> None:
        """Read the monitor; mark the link ``lost`` if ZeroMQ gave the connection up (no socket calls)."""
        if self._closed:
            return
        dropped, retried = self._events()
        if not dropped or retried:
            return
        # A lost broker is followed at once by ZeroMQ's own retry notice: wait for it briefly.
        if self.monitor.poll(_RETRY_NOTICE_MS):
            _, retried = self._events()
            if retried:
                return
        if self.lost:
            return
        self.lost = True
        limit = "no limit" if self.limit < 0 else f"{self.limit} bytes"
        self.drops.drop(
            "oversized_frame",
            None,
            f"the connection to {self.endpoint} was dropped after a frame above MAX_MESSAGE_SIZE ({limit}); "
            "connecting again (messages queued for this socket at that moment are lost)",
            level=logging.WARNING,
        )

    def reconnect(self) -> None:
        """Connect again after ``handle_events`` marked the link lost (only when the socket ran dry)."""
        if not self.lost or self._closed:
            return
        self.lost = False
        self.reconnects += 1
        try:
            self.socket.disconnect(self.endpoint)
        except zmq.ZMQError:  # ZeroMQ forgot the endpoint with the connection
            pass
        self.socket.connect(self.endpoint)

    def close(self) -> None:
        """Stop monitoring and close the monitor socket (before the SUB socket is closed)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.socket.disable_monitor()
        except zmq.ZMQError:  # context terminated or socket closed: nothing left to stop
            pass
        self.monitor.close(0)

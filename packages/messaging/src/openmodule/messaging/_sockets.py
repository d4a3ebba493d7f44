from __future__ import annotations

from typing import Any

import zmq


def _keepalive(socket: zmq.Socket) -> None:
    # Dead peers behind NAT/firewalls are noticed only with TCP keep-alive (18.x: idle 3600 s).
    socket.setsockopt(zmq.TCP_KEEPALIVE, 1)
    socket.setsockopt(zmq.TCP_KEEPALIVE_IDLE, 3600)


def get_sub_socket(context: zmq.Context, config: Any = None, linger: int = 0) -> zmq.Socket:
    """A SUB socket connected to ``config.BROKER_PUB`` (default: the settings).

    Usage::  ``sub = get_sub_socket(zmq.Context.instance(), settings)``
    """
    if config is None:
        from openmodule.config import settings as config
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, linger)
    _keepalive(socket)
    socket.connect(config.BROKER_PUB)
    return socket


def get_pub_socket(context: zmq.Context, config: Any = None, linger: int = 100) -> zmq.Socket:
    """Refused, as in 18.x: a PUB socket receives every subscription on the bus; publish through
    ``openmodule.messaging.Publisher`` (the core's ``core().publish``) instead."""
    raise AssertionError(
        "get_pub_socket is not supported: use core().publish / openmodule.messaging.Publisher"
    )


def _pub_socket(context: zmq.Context, config: Any, linger: int) -> zmq.Socket:
    socket = context.socket(zmq.PUB)
    socket.setsockopt(zmq.LINGER, linger)
    _keepalive(socket)
    socket.connect(config.BROKER_SUB)
    return socket

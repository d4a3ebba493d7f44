"""Receiving a burst of messages from a SUB socket without polling between them."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import orjson
import zmq

from openmodule.dispatcher._drops import DropLog, safe_repr
from openmodule.messaging._sockets import BrokerLink
from openmodule.messaging._wire import decode_frames, receive_drops

#: Messages handled per call before the caller looks at subscription changes and stop requests again.
BATCH = 256

_NOBLOCK = zmq.NOBLOCK
_loads = orjson.loads


def drain_socket(
    socket: zmq.Socket[Any],
    handle: Callable[[str, dict[str, Any]], Any],
    drops: DropLog | None,
    stopping: Callable[[], bool],
    limit: int = BATCH,
    wanted: Callable[[str], bool] | None = None,
) -> bool:
    """Hand every waiting message to ``handle(topic, dict)``, up to ``limit``; True if the socket ran dry.

    Usage (the loop of a receiving thread)::

        while not stopped:
            if drain_socket(sub, dispatch, drops, lambda: stopped):
                poller.poll()

    Polling (a syscall and a GIL hand-off) is left to the caller, for when a receive would block: a
    busy loop pays one poll per burst, not one per message. Malformed messages go through
    ``decode_frames``, which logs, counts and drops them. ``stopping()`` is checked before every
    message, so a stop request drops what is still queued.

    ``wanted(topic)``, if given, is asked before a body is decoded: ZeroMQ subscriptions are prefixes, so
    a socket subscribed to ``"abc"`` also receives ``"abc-def"``. Such messages are skipped unread (and
    their bodies, well-formed or not, are no concern of this socket's owner).
    """
    recv = socket.recv
    for _ in range(limit):
        if stopping():
            return False
        try:
            # copy=False: the frame itself says whether more follow, where recv_multipart() asks the
            # socket (a getsockopt through an enum lookup) after every frame.
            frame = recv(_NOBLOCK, copy=False)
        except zmq.Again:
            return True
        raw_topic = frame.bytes
        if frame.more:
            frame = recv(_NOBLOCK, copy=False)  # the rest of a message arrives with its first frame
            if not frame.more:
                # Fast path for the well-formed case; anything else goes through decode_frames.
                body = frame.bytes
                try:
                    topic = raw_topic.decode("utf-8")
                    if wanted is not None and not wanted(topic):
                        continue
                    data = _loads(body)
                except (UnicodeDecodeError, orjson.JSONDecodeError):
                    data = None
                if type(data) is dict:
                    try:
                        handle(topic, data)
                    except zmq.ContextTerminated:
                        raise
                    except Exception as exc:
                        # Handlers count their own errors; this catches what escapes them, so no
                        # message can end the receiving thread.
                        (drops or receive_drops).drop(
                            "handler_error",
                            topic,
                            f"{safe_repr(handle)} raised {safe_repr(exc)}",
                            exc_info=True,
                        )
                    continue
                frames = [raw_topic, body]
            else:
                frames = [raw_topic, frame.bytes]
                while frame.more:
                    frame = recv(_NOBLOCK, copy=False)
                    frames.append(frame.bytes)
        else:
            frames = [raw_topic]
        # Every well-formed message took the fast path: this only logs, counts and drops.
        decode_frames(frames, drops)
    return False


def wait_for_input(
    poller: zmq.Poller, wake_fd: int, timeout_ms: int | None = None, link: BrokerLink | None = None
) -> None:
    """Block until the socket or the wake pipe ``wake_fd`` (both registered in ``poller``) is readable.

    Usage: ``if drain_socket(...): wait_for_input(poller, wake_r)``. A wake-up empties the pipe, so the
    next wait blocks again; the caller then looks at its queued subscription changes and stop flag.
    With ``link`` (its ``monitor`` registered in ``poller`` as well) connection events are handled here:
    a connection ZeroMQ gave up after an oversized frame is made again, before the poll, since the caller
    has just drained the socket (no message is half read or read ahead then).
    """
    if link is not None and link.lost:
        link.reconnect()
    for item, _ in poller.poll(timeout_ms):
        if item == wake_fd:
            try:
                while os.read(wake_fd, 4096):
                    pass
            except BlockingIOError:
                pass
        elif link is not None and item is link.monitor:
            link.handle_events()

"""openmodule.messaging: the wire format, the thread-safe publisher and the message loop.

Usage::

    import zmq
    from openmodule.config import settings
    from openmodule.messaging import MessageLoop, Publisher, wait_for_connection

    context = zmq.Context.instance()
    publisher = Publisher(context, settings)
    loop = MessageLoop(context, settings).start()
    loop.dispatcher.register_handler("topic", DemoMessage, on_demo)
    wait_for_connection(publisher, loop, timeout=10)
    publisher.publish(DemoMessage(value=1), "topic")
"""

from __future__ import annotations

from openmodule.messaging._drain import drain_socket, wait_for_input
from openmodule.messaging._loop import MessageLoop
from openmodule.messaging._ping import PING_PREFIX, wait_for_connection
from openmodule.messaging._publisher import Publisher, find_publisher
from openmodule.messaging._receive import ReceiveLoop
from openmodule.messaging._running import (
    NoRunningCore,
    RPCCaller,
    RunningCore,
    running_core,
    running_core_or_none,
    set_running_core,
)
from openmodule.messaging._sockets import (
    DEFAULT_MAX_MESSAGE_SIZE,
    BrokerLink,
    get_pub_socket,
    get_sub_socket,
    max_message_size,
)
from openmodule.messaging._wire import (
    decode_frames,
    encode_message,
    receive_drops,
    receive_message_from_socket,
    send_message,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "PING_PREFIX",
    "BrokerLink",
    "MessageLoop",
    "NoRunningCore",
    "Publisher",
    "RPCCaller",
    "ReceiveLoop",
    "RunningCore",
    "decode_frames",
    "drain_socket",
    "encode_message",
    "find_publisher",
    "get_pub_socket",
    "get_sub_socket",
    "max_message_size",
    "receive_drops",
    "receive_message_from_socket",
    "running_core",
    "running_core_or_none",
    "send_message",
    "set_running_core",
    "wait_for_connection",
    "wait_for_input",
]

"""openmodule.dispatcher: route received messages to handlers.

Usage::

    from openmodule.dispatcher import EventListener

    on_demo = EventListener(log=logger)
    handle = core.messages.register_handler("topic", DemoMessage, on_demo)
    core.messages.unregister_handler(handle)
"""

from __future__ import annotations

from openmodule.dispatcher._dispatcher import (
    MessageDispatcher,
    MessageListener,
    SubscribingMessageDispatcher,
    ZMQMessageDispatcher,
    add_schema_recorder,
)
from openmodule.dispatcher._drops import DropLog
from openmodule.dispatcher._event_listener import EventListener
from openmodule.dispatcher._executor import DummyExecutor, is_multi_threaded

__all__ = [
    "DropLog",
    "DummyExecutor",
    "EventListener",
    "MessageDispatcher",
    "MessageListener",
    "SubscribingMessageDispatcher",
    "ZMQMessageDispatcher",
    "add_schema_recorder",
    "is_multi_threaded",
]

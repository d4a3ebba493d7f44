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
)
from openmodule.dispatcher._drops import (
    DropLog,
    clip,
    invalid_input_errors,
    invalid_input_summary,
    safe_repr,
)
from openmodule.dispatcher._event_listener import EventListener
from openmodule.dispatcher._executor import (
    DEFAULT_QUEUE_LIMIT,
    BoundedExecutor,
    DummyExecutor,
    QueueFullError,
    handler_queue_limit,
    is_multi_threaded,
)
from openmodule.dispatcher._ratelimit import ExcInfo, RateLimitedLog
from openmodule.dispatcher._schema_hook import SchemaRecorder, schema_recorder, set_schema_recorder

__all__ = [
    "DEFAULT_QUEUE_LIMIT",
    "BoundedExecutor",
    "DropLog",
    "DummyExecutor",
    "ExcInfo",
    "EventListener",
    "MessageDispatcher",
    "MessageListener",
    "QueueFullError",
    "RateLimitedLog",
    "SchemaRecorder",
    "SubscribingMessageDispatcher",
    "ZMQMessageDispatcher",
    "clip",
    "handler_queue_limit",
    "invalid_input_errors",
    "invalid_input_summary",
    "is_multi_threaded",
    "safe_repr",
    "schema_recorder",
    "set_schema_recorder",
]

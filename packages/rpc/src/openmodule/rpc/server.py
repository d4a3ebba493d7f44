"""``openmodule.rpc.server``: the module path services import the RPC server from.

Usage::

    from openmodule.rpc.server import RPCServer, RPCRequest, gateway_filter
"""

from __future__ import annotations

from openmodule.models.rpc import RPCErrorResult, RPCRequest, RPCResponse, RPCServerError
from openmodule.rpc._filters import FilterEntry, RPCFilter, gateway_filter, should_process
from openmodule.rpc._server import RPCHandler, RPCServer
from openmodule.rpc._topics import channel_to_request_topic, channel_to_response_topic

__all__ = [
    "FilterEntry",
    "RPCErrorResult",
    "RPCFilter",
    "RPCHandler",
    "RPCRequest",
    "RPCResponse",
    "RPCServer",
    "RPCServerError",
    "channel_to_request_topic",
    "channel_to_response_topic",
    "gateway_filter",
    "should_process",
]

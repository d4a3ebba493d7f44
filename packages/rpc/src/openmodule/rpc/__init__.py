"""openmodule.rpc: request/response calls between services over the message bus.

Usage::

    from openmodule.rpc import RPCServer, RPCClient, gateway_filter

    server = RPCServer(context=core.context)
    server.register_handler("backend", "auth", AccessRequest, AccessResponse, on_auth)
    server.run_as_thread()

    response = core.rpc_client.rpc("backend", "auth", AccessRequest(...), AccessResponse)
"""

from __future__ import annotations

from openmodule.rpc._client import RPCClient, RPCEntry
from openmodule.rpc._filters import gateway_filter
from openmodule.rpc._server import RPCHandler, RPCServer
from openmodule.rpc._topics import channel_to_request_topic, channel_to_response_topic

__all__ = [
    "RPCClient",
    "RPCEntry",
    "RPCHandler",
    "RPCServer",
    "channel_to_request_topic",
    "channel_to_response_topic",
    "gateway_filter",
]

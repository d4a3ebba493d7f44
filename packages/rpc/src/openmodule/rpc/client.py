"""``openmodule.rpc.client``: the module path services import the RPC client from.

Usage::

    from openmodule.rpc.client import RPCClient

    try:
        response = core().rpc_client.rpc("backend", "auth", request, AuthResponse)
    except RPCClient.TimeoutError:
        ...
"""

from __future__ import annotations

from openmodule.models.rpc import RPCErrorResult, RPCRequest, RPCResponse, RPCServerError
from openmodule.rpc._client import RPCClient, RPCEntry
from openmodule.rpc._topics import channel_to_request_topic, channel_to_response_topic

__all__ = [
    "RPCClient",
    "RPCEntry",
    "RPCErrorResult",
    "RPCRequest",
    "RPCResponse",
    "RPCServerError",
    "channel_to_request_topic",
    "channel_to_response_topic",
]

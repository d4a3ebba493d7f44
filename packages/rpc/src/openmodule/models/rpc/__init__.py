"""Wire models of openmodule RPCs (``rpc-req-<channel>`` / ``rpc-rep-<channel>``).

Usage::

    from openmodule.models.rpc import RPCRequest, RPCResponse, RPCServerError, RPCErrorResult
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from openmodule.models.base import OpenModuleModel, ZMQMessage

__all__ = [
    "RPCErrorResult",
    "RPCRequest",
    "RPCResponse",
    "RPCServerError",
    "ServerRPCRequest",
]


class RPCServerError(StrEnum):
    """The error values of ``response.status`` (success is the plain string ``"ok"``)."""

    handler_error = "handler_error"
    validation_error = "validation_error"
    filter_error = "filter_error"
    error = "error"  # only sent by the cloud-side RPC server


class RPCRequest(ZMQMessage):
    """A request on ``rpc-req-<channel>``; ``type`` is the RPC type (method name)."""

    rpc_id: UUID
    # The target device resource; servers that filter by resource ignore requests for another one.
    resource: str | None = None
    request: dict[str, Any] | None = None


class RPCResponse(ZMQMessage):
    """A response on ``rpc-rep-<channel>``; ``response`` always holds ``status``."""

    # Absent only when the server could not read the request envelope.
    rpc_id: UUID | None = None
    response: dict[str, Any]


class RPCErrorResult(OpenModuleModel):
    """The payload of a failed RPC: ``status`` plus ``exception`` (device server) or ``error`` (cloud)."""

    status: RPCServerError
    error: str | None = None
    exception: str | None = None


class ServerRPCRequest(OpenModuleModel):
    """Payload of the cloud relay channel ``rpc-websocket``, type ``server_rpc``."""

    rpc: str
    data: Any = None

"""Wire models of the connection status (topic ``connection_internal``, RPC ``connection``/``status``)."""

from __future__ import annotations

from enum import StrEnum

from openmodule.models.base import OpenModuleModel, ZMQMessage


class ConnectionStatus(StrEnum):
    """Connection of the device to the cloud server (str enum as in 18.x: compares equal to its value)."""

    startup = "startup"  # just came back after being offline; the publisher keeps it for 5 minutes
    online = "online"
    shutdown = "shutdown"  # just lost
    offline = "offline"  # lost for some time


class BridgeStatus(StrEnum):
    """Connection of a bridged slave to its master compute unit."""

    online = "online"
    offline = "offline"


class ConnectionStatusMessage(ZMQMessage):
    """Published about every 10 s on ``connection_internal`` by the device's RPC client service."""

    type: str = "connection_status"
    connected: ConnectionStatus
    bridge_status: BridgeStatus | None = None


class ConnectionRPCResponse(OpenModuleModel):
    """Response of the ``connection``/``status`` RPC (also the JSON kept in Redis)."""

    connected: ConnectionStatus
    bridge_status: BridgeStatus | None = None

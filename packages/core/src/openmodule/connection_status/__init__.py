"""openmodule.connection_status: is the device connected to the cloud (and to its bridge master)?

Usage::

    from openmodule.connection_status import ConnectionStatus
    from openmodule.core import core

    if core().connection_listener.get() == ConnectionStatus.online:
        ...
"""

from __future__ import annotations

from openmodule.connection_status._listener import TIMEOUT, ConnectionStatusListener, parse_redis_status
from openmodule.connection_status._models import (
    BridgeStatus,
    ConnectionRPCResponse,
    ConnectionStatus,
    ConnectionStatusMessage,
)

__all__ = [
    "TIMEOUT",
    "BridgeStatus",
    "ConnectionRPCResponse",
    "ConnectionStatus",
    "ConnectionStatusListener",
    "ConnectionStatusMessage",
    "parse_redis_status",
]

"""Base class of access services: the ``access_service``/``auth`` RPC and optional session handling.

Usage::

    from openmodule.utils.access_service import AccessService
    from openmodule.models.access_service import AccessCheckRequest, AccessCheckResponse

    class MyAccessService(AccessService):
        auth_request_request_model = AccessCheckRequest

        def rpc_check_access(self, request, message):
            return AccessCheckResponse(success=True, accesses=[])

    service = MyAccessService()
    service.register_rpcs(rpc_server)
"""

from __future__ import annotations

from typing import Any

from openmodule.utils.access_service._service import (
    ACCESS_CHANNEL,
    AUTH_TYPE,
    SESSION_TOPIC,
    AccessService,
    AccessServiceWithSessions,
    Backend,
)

# The database variant pulls SQLAlchemy, the KV store and the settings provider: imported on first use.
_LAZY = {"AccessModelBase", "AccessServiceWithDatabase"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from openmodule.utils.access_service import _database

        return getattr(_database, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACCESS_CHANNEL",
    "AUTH_TYPE",
    "SESSION_TOPIC",
    "AccessModelBase",
    "AccessService",
    "AccessServiceWithDatabase",
    "AccessServiceWithSessions",
    "Backend",
]

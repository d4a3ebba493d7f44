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

from openmodule.utils.access_service._service import (
    ACCESS_CHANNEL,
    AUTH_TYPE,
    SESSION_TOPIC,
    AccessService,
    AccessServiceWithSessions,
    Backend,
)

__all__ = [
    "ACCESS_CHANNEL",
    "AUTH_TYPE",
    "SESSION_TOPIC",
    "AccessService",
    "AccessServiceWithSessions",
    "Backend",
]

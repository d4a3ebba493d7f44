"""openmodule.utils.redis: a ``redis.Redis`` client configured from the REDIS_* settings.

Usage::

    from openmodule.utils.redis import redis_client

    client = redis_client()          # REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD of the settings
    client.get("device_connection_status")
"""

from __future__ import annotations

from typing import Any

import redis
from openmodule.config import ServiceConfig

__all__ = ["redis_client"]


def redis_client(
    config: ServiceConfig | None = None, *, socket_timeout: float = 2.0, **kwargs: Any
) -> redis.Redis:
    """A new client for the service's Redis (no connection is made until the first command).

    Short connect/read timeouts by default: callers use Redis as a fast cache and must fall back quickly
    when it is down. Extra keyword arguments go to :class:`redis.Redis`.
    """
    if config is None:
        from openmodule.config import settings

        config = settings
    options: dict[str, Any] = {
        "host": getattr(config, "REDIS_HOST", "localhost"),
        "port": int(getattr(config, "REDIS_PORT", 6379)),
        "db": int(getattr(config, "REDIS_DB", 0)),
        "password": getattr(config, "REDIS_PASSWORD", None) or None,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
    }
    options.update(kwargs)
    return redis.Redis(**options)

"""openmodule.health: the healthz ping/pong endpoint, checks, metrics and the README's health handler API.

Usage::

    from openmodule.health import Health, HealthMetricType, health_ok, health_error

    health = Health(dispatcher, publish, config=settings, health_handler=lambda: health_ok())
    health.add_check("camera", "Camera", "camera reachable")
    health.check_fail("camera", message="no frames")
"""

from __future__ import annotations

from openmodule.health._handler import HealthHandlerType, HealthResult, health_error, health_ok
from openmodule.health._health import (
    PING_TOPIC,
    PONG_TOPIC,
    RESERVED_LABELS,
    Health,
    Healthz,
    is_reserved_label,
)
from openmodule.models.health import (
    HealthCheck,
    HealthCheckState,
    HealthMetric,
    HealthMetricType,
    HealthPingMessage,
    HealthPongMessage,
    HealthPongPayload,
)

__all__ = [
    "PING_TOPIC",
    "PONG_TOPIC",
    "RESERVED_LABELS",
    "Health",
    "HealthCheck",
    "HealthCheckState",
    "HealthHandlerType",
    "HealthMetric",
    "HealthMetricType",
    "HealthPingMessage",
    "HealthPongMessage",
    "HealthPongPayload",
    "HealthResult",
    "Healthz",
    "health_error",
    "health_ok",
    "is_reserved_label",
]

"""openmodule.models.health: the healthz ping/pong messages on the wire.

Usage::

    from openmodule.models.health import HealthPongMessage, HealthCheckState
    pong = HealthPongMessage.model_validate(received_dict)
    pong.pong.status == "ok"

Field order follows the reference, so the JSON bytes come out in the order deployed pollers have always seen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from openmodule.models.base import OpenModuleModel, Timestamp, ZMQMessage

__all__ = [
    "HealthCheck",
    "HealthCheckState",
    "HealthMetric",
    "HealthMetricType",
    "HealthPingMessage",
    "HealthPongMessage",
    "HealthPongPayload",
]


class HealthCheckState(StrEnum):
    """State of one health check; ``no_data`` is sent as ``"no-data"`` and never counts as failing."""

    ok = "ok"
    fail = "fail"
    no_data = "no-data"


class HealthMetricType(StrEnum):
    """Type of a health metric: ``count`` only grows, ``gauge`` is any number, ``str`` is text."""

    count = "count"  # type: ignore[assignment]  # the wire name; shadows str.count on purpose
    gauge = "gauge"
    str = "str"


class HealthPingMessage(ZMQMessage):
    """The poller's request on topic ``healthz``; extra keys such as ``"ping": "ping"`` are ignored."""

    type: str = "ping"


class HealthCheck(OpenModuleModel):
    """One check in a pong; ``message`` is only set while failing, ``source`` is set by the server side."""

    id: str
    package: str
    state: HealthCheckState
    name: str
    description: str | None = None
    message: str | None = None
    source: str | None = None


class HealthMetric(OpenModuleModel):
    """One metric in a pong; ``values`` maps a label-key string to the value of that label combination."""

    id: str
    name: str
    description: str
    type: HealthMetricType
    labels: list[str] = Field(default_factory=list)
    values: dict[str, Any] = Field(default_factory=dict)
    package: str
    source: str | None = None


class HealthPongPayload(OpenModuleModel):
    """The ``pong`` object: overall status, VERSION, NAME, process start time (epoch float) and a message."""

    status: str
    version: str
    name: str
    startup: Timestamp  # epoch float at any nesting depth, like 12.x
    message: str | None = None
    # Only present when a legacy health handler returned meta data (never for services without one).
    meta: dict[str, Any] | None = None


class HealthPongMessage(ZMQMessage):
    """The answer on topic ``healthpong``; ``checks`` and ``metrics`` are always present (maybe empty)."""

    type: str = "healthz"
    pong: HealthPongPayload
    checks: list[HealthCheck] = Field(default_factory=list)
    metrics: list[HealthMetric] = Field(default_factory=list)

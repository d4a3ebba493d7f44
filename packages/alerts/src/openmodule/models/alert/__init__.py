"""openmodule.models.alert: the alert message on topic ``alert``.

Usage::

    from openmodule.models.alert import AlertMessage, AlertStatus, AlertHandleType
    alert = AlertMessage.model_validate(received_dict)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from openmodule.models.base import ZMQMessage

__all__ = ["AlertHandleType", "AlertMessage", "AlertStatus"]


class AlertStatus(StrEnum):
    """Status of an alert."""

    ok = "ok"
    error = "error"
    offline = "offline"


class AlertHandleType(StrEnum):
    """How the alert server treats the alert: a ``state`` (with a value), a ``state_change`` or a ``count``."""

    state = "state"
    state_change = "state_change"
    count = "count"  # type: ignore[assignment]  # the wire name; shadows str.count on purpose


class AlertMessage(ZMQMessage):
    """An alert as published on topic ``alert``; ``value`` is required for ``handle_type == "state"`` alerts."""

    type: str = "alert"
    status: AlertStatus
    alert_meta: dict[str, Any] = Field(default_factory=dict)
    package: str
    alert_type: str
    source: str = ""
    handle_type: AlertHandleType
    value: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _state_needs_value(cls, data: Any) -> Any:
        # Like 12.x: an explicit null value is rejected for state alerts, a missing one still parses
        # (deployed senders may omit it; our AlertHandler never sends such an alert).
        if (
            isinstance(data, dict)
            and data.get("handle_type") == "state"
            and "value" in data
            and data["value"] is None
        ):
            raise ValueError("value must be set for alerts with handle_type 'state'")
        return data

"""openmodule.alert: the AlertHandler that publishes alerts on topic ``alert``.

Usage::

    from openmodule.alert import AlertHandler, AlertHandleType, AlertStatus

    alerts = AlertHandler(publisher.publish, config=settings)
    alerts.send("camera_offline", AlertHandleType.state_change, status=AlertStatus.error, source="cam1")
"""

from __future__ import annotations

from openmodule.alert._handler import ALERT_TOPIC, AlertHandler
from openmodule.models.alert import AlertHandleType, AlertMessage, AlertStatus

__all__ = ["ALERT_TOPIC", "AlertHandleType", "AlertHandler", "AlertMessage", "AlertStatus"]

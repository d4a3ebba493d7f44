"""AlertHandler: registers alerts and publishes them when their status changes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openmodule.config import ServiceConfig
from openmodule.messaging import running_core
from openmodule.models.alert import AlertHandleType, AlertMessage, AlertStatus

log = logging.getLogger("openmodule.alert")

ALERT_TOPIC = "alert"

_Identity = tuple[str, str, str, str]  # (source, alert_type, handle_type, package)


@dataclass
class _Alert:
    alert_type: str
    handle_type: AlertHandleType
    package: str
    source: str
    version: str
    always_send_alert: bool = False
    status: AlertStatus | None = None  # None until the first send, so the first send always publishes
    meta: dict[str, Any] = field(default_factory=dict)
    value: float | None = None


class AlertHandler:
    """Publishes alerts on topic ``alert``; an alert goes out when its status changes (or always, if asked).

    An alert is identified by ``(source, alert_type, handle_type, package)``. The core builds one as
    ``core.alerts``. The first argument is a publish callable, or a core (anything with ``publish`` and
    ``config``, as the reference's ``AlertHandler(core)``); without it the running core is used.

    Usage::

        alerts = AlertHandler(publisher.publish, config=settings)  # or AlertHandler(core) / AlertHandler()
        alerts.send("io_offline", AlertHandleType.state_change, status=AlertStatus.error, source="pin_3")
        alert_id = alerts.get_or_add_alert_id("queue_length", AlertHandleType.state)
        alerts.send_with_alert_id(alert_id, AlertStatus.ok, {"queue": 3}, value=3)
    """

    def __init__(
        self, publish: Callable[[Any, str], Any] | Any = None, config: ServiceConfig | None = None
    ) -> None:
        if publish is None:
            # the reference's handlers find the core by themselves; the core registers itself below us
            publish = running_core("AlertHandler() without a publish callable")
        if not callable(publish):
            core = publish
            if not callable(getattr(core, "publish", None)):
                raise TypeError(
                    f"AlertHandler needs a publish callable or a core with publish(), got {type(core).__name__}"
                )
            publish = core.publish
            if config is None:
                config = getattr(core, "config", None)
        if config is None:
            from openmodule.config import settings

            config = settings
        self.publish = publish
        self.config = config
        self.log = log
        self._alerts: list[_Alert] = []  # index = alert id
        self._ids: dict[_Identity, int] = {}
        # Re-entrant: send() registers and sends under the same lock; the compare-and-publish is atomic.
        self._lock = threading.RLock()

    def get_or_add_alert_id(
        self,
        alert_type: str,
        handle_type: AlertHandleType | str,
        *,
        package_name: str | None = None,
        version: str | None = None,
        always_send_alert: bool | None = None,
        source: str = "",
    ) -> int:
        """The id of the alert with this identity, registering it first if needed.

        Usage: ``alert_id = alerts.get_or_add_alert_id("camera_offline", AlertHandleType.state_change)``
        """
        if "-" in alert_type:
            raise AssertionError(f"alert_type {alert_type!r} must not contain '-': use lower_snake_case")
        handle = AlertHandleType(handle_type)
        package = str(self.config.NAME) if package_name is None else package_name
        identity: _Identity = (source, alert_type, handle.value, package)
        with self._lock:
            alert_id = self._ids.get(identity)
            if alert_id is not None:
                alert = self._alerts[alert_id]
                if always_send_alert is not None:
                    alert.always_send_alert = always_send_alert
                if version is not None:
                    alert.version = version
                return alert_id
            alert = _Alert(
                alert_type=alert_type,
                handle_type=handle,
                package=package,
                source=source,
                version=str(self.config.VERSION) if version is None else version,
                always_send_alert=bool(always_send_alert),
            )
            self._alerts.append(alert)
            alert_id = len(self._alerts) - 1
            self._ids[identity] = alert_id
            return alert_id

    def send_with_alert_id(
        self,
        alert_id: int,
        status: AlertStatus | str,
        meta: dict[str, Any] | None = None,
        value: float | None = None,
    ) -> bool:
        """Publishes the alert if its status changed (or ``always_send_alert``); returns whether it was sent.

        Usage: ``alerts.send_with_alert_id(alert_id, AlertStatus.error, {"reason": "timeout"})``
        """
        if status not in tuple(AlertStatus):
            raise AssertionError(f"status must be one of {[s.value for s in AlertStatus]}, got {status!r}")
        status = AlertStatus(status)
        with self._lock:
            if not isinstance(alert_id, int) or not 0 <= alert_id < len(self._alerts):
                raise KeyError(f"unknown alert id {alert_id!r}: get one from get_or_add_alert_id()")
            alert = self._alerts[alert_id]
            if alert.handle_type == AlertHandleType.state and value is None:
                raise ValueError(
                    f"value must not be None for alert {alert.alert_type!r} with handle_type 'state': pass value="
                )
            alert_meta = dict(meta or {})  # a copy: the caller's dict stays untouched
            alert_meta["sender"] = str(self.config.NAME)
            new_value = alert.value if value is None else value  # a value persists, as in the reference
            if not (alert.always_send_alert or alert.status != status):
                alert.meta, alert.value = alert_meta, new_value
                return False
            # Built and published before the state is stored: a failed publish must not swallow the change.
            message = AlertMessage(
                status=status,
                alert_meta=alert_meta,
                package=alert.package,
                alert_type=alert.alert_type,
                source=alert.source,
                handle_type=alert.handle_type,
                value=new_value,
            )
            origin = ""
            if alert.package != str(self.config.NAME) or alert.source:
                origin = f" from {alert.package}/{alert.source}"
            self.log.info("Send alert%s: %s - %s", origin, alert.alert_type, status.value)
            self.publish(message, ALERT_TOPIC)
            alert.status, alert.meta, alert.value = status, alert_meta, new_value
            return True

    def send(
        self,
        alert_type: str,
        handle_type: AlertHandleType | str,
        *,
        package_name: str | None = None,
        version: str | None = None,
        always_send_alert: bool | None = None,
        status: AlertStatus | str = AlertStatus.error,
        meta: dict[str, Any] | None = None,
        value: float | None = None,
        source: str = "",
    ) -> bool:
        """Registers (if needed) and sends an alert; returns whether it was published.

        Usage: ``alerts.send("printer_paper", AlertHandleType.state_change, status=AlertStatus.error)``
        """
        with self._lock:
            alert_id = self.get_or_add_alert_id(
                alert_type,
                handle_type,
                package_name=package_name,
                version=version,
                always_send_alert=always_send_alert,
                source=source,
            )
            return self.send_with_alert_id(alert_id, status, meta, value)

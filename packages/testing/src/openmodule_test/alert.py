"""``AlertTestMixin``: assert alerts on the bus."""

from __future__ import annotations

import time
from typing import Any

from openmodule_test.zeromq import ZMQTestMixin

__all__ = ["AlertTestMixin"]


def _matches(message: dict[str, Any], fields: dict[str, object]) -> bool:
    return all(message.get(k) == (v.value if hasattr(v, "value") else v) for k, v in fields.items())


class AlertTestMixin(ZMQTestMixin):
    """Needs ``alert`` in ``topics``.

    Usage: ``self.assertAlert(alert_type="door_open", status="error")``
    """

    topics = ["alert"]

    def assertAlert(self, timeout: float = 3, **fields: object) -> dict[str, Any]:
        """The first alert whose top-level keys equal all given values; ``TimeoutError`` if none arrives."""
        self.assertSubscription("alert")
        _t, message = self.zmq_client.wait_for_message(
            lambda t, m: t == "alert" and _matches(m, fields), timeout
        )
        return message

    def assertNoAlert(self, timeout: float = 3, **fields: object) -> None:
        """No alert matching ``fields`` arrives within ``timeout`` seconds."""
        self.assertSubscription("alert")
        deadline = time.monotonic() + timeout
        try:
            message = self.zmq_client.wait_for_message(
                lambda t, m: t == "alert" and _matches(m, fields), max(0.0, deadline - time.monotonic())
            )[1]
        except TimeoutError:
            return
        raise AssertionError(f"unexpected alert: {message}")

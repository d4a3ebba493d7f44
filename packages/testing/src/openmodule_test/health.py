"""``HealthTestMixin``: ping services over the bus and check their pong."""

from __future__ import annotations

import time
from typing import Any

from openmodule_test.zeromq import ZMQTestMixin

__all__ = ["HealthTestMixin"]


class HealthTestMixin(ZMQTestMixin):
    """Needs ``healthpong`` in ``topics``.

    Usage: ``self.assertHealthOk(self.get_health("om_my_service_1"))``
    """

    topics = ["healthpong"]

    def get_health(self, name: str | None = None, timeout: float = 3) -> dict[str, Any]:
        """Send a ping on ``healthz`` and return the next pong (of service ``name`` if given)."""
        self.assertSubscription("healthpong")
        self.zmq_client.send("healthz", type="ping", ping="ping")
        _topic, message = self.zmq_client.wait_for_message(
            lambda t, m: t == "healthpong" and (name is None or m.get("name") == name), timeout
        )
        return message

    def assertHealthOk(self, message: dict[str, Any]) -> None:
        status = message.get("pong", {}).get("status")
        self.assertEqual("ok", status, f"health is {status!r}: {message.get('pong')}")

    def assertHealthError(self, message: dict[str, Any]) -> None:
        status = message.get("pong", {}).get("status")
        self.assertEqual("error", status, f"health is {status!r}: {message.get('pong')}")

    def wait_for_health(self, name: str | None = None, timeout: float = 5) -> dict[str, Any]:
        """Ping until the service ``name`` answers (it may still be starting)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.get_health(name, timeout=0.1)
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"no health pong from {name or 'any service'} within {timeout}s"
                    ) from None

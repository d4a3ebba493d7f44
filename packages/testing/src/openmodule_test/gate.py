"""``TestGate``: counts the ``access_accept`` / ``access_reject`` messages a service sends for one gate."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from openmodule.dispatcher import MessageDispatcher
from openmodule_test.utils import DeveloperError

__all__ = ["TestGate"]

_POLL = 0.05


def _gate_of(message: dict[str, Any]) -> object:
    gateway = message.get("gateway")
    return gateway.get("gate") if isinstance(gateway, dict) else None


class TestGate:
    """A simulated gate: counts accepts (opens) and rejects addressed to ``gate`` on ``dispatcher``.

    Only the gate name is compared (not the direction). The dispatcher must receive ``access_accept`` and
    ``access_reject`` (subscribe them, e.g. ``topics = ["access_accept", "access_reject"]``).

    Usage::

        gate = TestGate("gate_in", Direction.IN, self.core.messages)
        ...  # let the service decide
        gate.wait_for_open()
        gate.reset_counts()

    As with ``MockEvent``, waiting twice without ``reset_counts()`` in between raises ``DeveloperError``, so a
    test never counts the same open twice by accident.
    """

    __test__ = False  # not a pytest test class

    _instances: weakref.WeakSet[TestGate] = weakref.WeakSet()

    def __init__(self, gate: str, direction: Any, dispatcher: MessageDispatcher) -> None:
        self.gate = gate
        self.direction = direction
        self.open_count = 0
        self.reject_count = 0
        self._waited = False
        self._lock = threading.Lock()
        self._handles = [
            dispatcher.register_handler(
                topic, dict, handler, filter=self._for_me, match_type=False, register_schema=False
            )
            for topic, handler in (("access_accept", self._on_accept), ("access_reject", self._on_reject))
        ]
        self._dispatcher = dispatcher
        TestGate._instances.add(self)

    def _for_me(self, message: dict[str, Any]) -> bool:
        return _gate_of(message) == self.gate

    def _on_accept(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.open_count += 1

    def _on_reject(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.reject_count += 1

    def _start_wait(self) -> None:
        if self._waited:
            raise DeveloperError(
                f"TestGate {self.gate!r} was already waited on: call reset_counts() (or "
                "TestGate.reset_all_counts()) before waiting again"
            )
        self._waited = True

    def _wait(self, attribute: str, minimum: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while getattr(self, attribute) < minimum:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"gate {self.gate!r}: {attribute} is {getattr(self, attribute)} after {timeout}s, "
                    f"expected at least {minimum}"
                )
            time.sleep(_POLL)

    def wait_for_open(self, timeout: float = 3, minimum_open_count: int = 1) -> None:
        """Wait until the gate was opened ``minimum_open_count`` times; ``TimeoutError`` otherwise."""
        self._start_wait()
        self._wait("open_count", minimum_open_count, timeout)

    def wait_for_reject(self, timeout: float = 3, minimum_open_count: int = 1) -> None:
        """Wait until the gate was rejected ``minimum_open_count`` times (``TimeoutError`` otherwise), then
        up to half the timeout for a late open, which fails the assertion that it stays rejected."""
        self._start_wait()
        self._wait("reject_count", minimum_open_count, timeout)
        deadline = time.monotonic() + timeout / 2
        while self.open_count == 0 and time.monotonic() < deadline:
            time.sleep(_POLL)
        assert self.open_count == 0, (
            f"gate {self.gate!r} was rejected but then opened ({self.open_count} open(s))"
        )

    def assert_opened(self) -> None:
        assert self.open_count > 0, f"gate {self.gate!r} was not opened"

    def assert_rejected(self) -> None:
        assert self.open_count == 0, f"gate {self.gate!r} was opened ({self.open_count} open(s))"
        assert self.reject_count > 0, f"gate {self.gate!r} was not rejected"

    def reset_counts(self) -> None:
        """Forget the counted opens and rejects and allow the next wait."""
        with self._lock:
            self.open_count = 0
            self.reject_count = 0
            self._waited = False

    #: The name the reference documents.
    reset_call_count = reset_counts

    @classmethod
    def reset_all_counts(cls) -> None:
        """``reset_counts()`` on every TestGate alive."""
        for gate in list(cls._instances):
            gate.reset_counts()

    def shutdown(self) -> None:
        """Stop counting (unregisters the handlers)."""
        for handle in self._handles:
            self._dispatcher.unregister_handler(handle)
        self._handles = []

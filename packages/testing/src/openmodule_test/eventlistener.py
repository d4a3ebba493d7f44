"""``MockEvent``: a Mock that a test can wait on."""

from __future__ import annotations

import threading
import weakref
from typing import Any
from unittest.mock import Mock

from openmodule_test.utils import DeveloperError

__all__ = ["MockEvent"]


class MockEvent(Mock):
    """A ``Mock`` whose calls can be awaited from the test thread.

    Usage::

        handler = MockEvent()
        core.messages.register_handler("topic", Message, handler, register_schema=False)
        handler.wait_for_call()
        handler.reset_mock()
    """

    _instances: weakref.WeakSet[MockEvent] = weakref.WeakSet()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__["_waited"] = False
        # waiting on a condition instead of polling a clock: a test that freezes time (freezegun patches
        # time.monotonic, not the threading module's clock) still gets its TimeoutError
        self.__dict__["_called"] = threading.Condition(threading.RLock())
        MockEvent._instances.add(self)

    def _mock_call(self, *args: Any, **kwargs: Any) -> Any:
        called = self.__dict__["_called"]
        with called:
            try:
                return super()._mock_call(*args, **kwargs)
            finally:
                called.notify_all()

    def wait_for_call(self, *, timeout: float = 3, minimum_call_count: int = 1) -> None:
        """Wait until the mock was called at least ``minimum_call_count`` times; ``TimeoutError`` otherwise.

        A second wait needs a ``reset_mock()`` first, so a test never counts a call twice by accident.
        """
        if self.__dict__["_waited"]:
            raise DeveloperError("wait_for_call() was already used: call reset_mock() before waiting again")
        self.__dict__["_waited"] = True
        called = self.__dict__["_called"]
        with called:
            if not called.wait_for(lambda: self.call_count >= minimum_call_count, timeout):
                raise TimeoutError(
                    f"mock was called {self.call_count} time(s) within {timeout}s, expected {minimum_call_count}"
                )

    def reset_mock(
        self, visited: object = None, *, return_value: bool = False, side_effect: bool = False
    ) -> None:
        super().reset_mock(visited, return_value=return_value, side_effect=side_effect)
        self.__dict__["_waited"] = False

    @classmethod
    def reset_all_mocks(cls) -> None:
        for mock in list(cls._instances):
            mock.reset_mock()

    def reset_call_count(self) -> None:
        """Deprecated alias of ``reset_mock()``."""
        import warnings

        warnings.warn("reset_call_count() is deprecated, use reset_mock()", DeprecationWarning, stacklevel=2)
        self.reset_mock()

    @classmethod
    def reset_all_call_counts(cls) -> None:
        """Deprecated alias of ``reset_all_mocks()``."""
        import warnings

        warnings.warn(
            "reset_all_call_counts() is deprecated, use reset_all_mocks()", DeprecationWarning, stacklevel=2
        )
        cls.reset_all_mocks()

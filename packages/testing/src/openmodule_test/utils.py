"""Small helpers shared by the test utilities."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DeveloperError", "wait_for_value"]

T = TypeVar("T")
_NOTHING: Any = object()


class DeveloperError(Exception):
    """A test utility was used wrongly (raised instead of an assertion so it is not mistaken for a failure)."""


def wait_for_value(
    getter: Callable[[], T],
    target: object = _NOTHING,
    invert_target: bool = False,
    timeout: float = 3,
    sleep_time: float = 0.01,
) -> T:
    """Poll ``getter`` until it returns ``target`` (or anything truthy when no target is given).

    ``invert_target=True`` waits until the value is *not* ``target``. Raises ``TimeoutError`` naming the last
    value seen.

    Usage: ``wait_for_value(lambda: len(received), 3)``
    """
    deadline = time.monotonic() + timeout
    while True:
        value = getter()
        if target is _NOTHING:
            done = bool(value)
        else:
            done = (value == target) != invert_target
        if done:
            return value
        if time.monotonic() >= deadline:
            wanted = (
                "a truthy value" if target is _NOTHING else f"{'not ' if invert_target else ''}{target!r}"
            )
            raise TimeoutError(f"waited {timeout}s for {wanted}, last value was {value!r}")
        time.sleep(sleep_time)

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any


class DummyExecutor(Executor):
    """Runs each submitted call at once in the submitting thread (strict ordering).

    Usage::  ``MessageDispatcher(executor=DummyExecutor())`` (the default).
    After ``shutdown()`` further submits raise ``RuntimeError``.
    """

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._shutdown:
            raise RuntimeError("cannot schedule new calls after shutdown")
        # Exceptions propagate to the caller, as a direct call would (raise_*_errors rely on it).
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True

    @property
    def is_shutdown(self) -> bool:
        return self._shutdown


def is_multi_threaded(executor: Executor) -> bool:
    """False for a DummyExecutor and single-worker pools, True for anything that may run calls in parallel."""
    if isinstance(executor, DummyExecutor):
        return False
    if isinstance(executor, ThreadPoolExecutor):
        return executor._max_workers > 1
    return True

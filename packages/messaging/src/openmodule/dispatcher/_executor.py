from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from openmodule.config import ServiceConfig

#: Default of the ``HANDLER_QUEUE_LIMIT`` setting: handler calls an executor may hold (queued or running).
#: As many as ZeroMQ's own receive queue holds (RCVHWM 1000): a pool is no bigger a buffer than no pool.
DEFAULT_QUEUE_LIMIT = 1000


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
    if isinstance(executor, BoundedExecutor):
        return is_multi_threaded(executor.executor)
    if isinstance(executor, ThreadPoolExecutor | ProcessPoolExecutor):
        return executor._max_workers > 1  # type: ignore[union-attr]
    return True


def handler_queue_limit(config: ServiceConfig | None = None) -> int:
    """The ``HANDLER_QUEUE_LIMIT`` setting of ``config`` (default: the settings); 0 for no limit.

    Usage::  ``handler_queue_limit(settings)``  ->  ``1000``

    A config without the name, or settings that are not set up, give the global default (environment
    variable ``HANDLER_QUEUE_LIMIT``, else 1000). Zero or a negative value switches the limit off.
    """
    value: Any = None
    if config is None:
        try:
            from openmodule.config import settings

            value = getattr(settings, "HANDLER_QUEUE_LIMIT", None)
        except Exception:  # no settings module: a dispatcher used on its own
            value = None
    else:
        value = getattr(config, "HANDLER_QUEUE_LIMIT", None)
    if value is None:
        from openmodule.config import GlobalSettings

        value = getattr(GlobalSettings, "HANDLER_QUEUE_LIMIT", DEFAULT_QUEUE_LIMIT)
    limit = int(value)
    return limit if limit > 0 else 0


class QueueFullError(Exception):
    """``BoundedExecutor.submit`` refused a call: ``limit`` calls are queued or running already."""


class BoundedExecutor(Executor):
    """An executor that holds at most ``limit`` calls (queued or running) of the one it wraps.

    Usage::

        pool = BoundedExecutor(ThreadPoolExecutor(4), limit=1000)
        try:
            pool.submit(handle, message)
        except QueueFullError:
            ...                      # count and drop: the workers are that far behind
        pool.shutdown(cancel_futures=True)   # queued calls are cancelled, running ones finish

    A ``ThreadPoolExecutor`` queues without limit: a flood of 60,000 requests/s queued 228,000 calls and
    700 MB within seconds, and its shutdown then ran the whole backlog. ``limit=0`` means no limit.
    ``shutdown(cancel_futures=True)`` cancels the calls this wrapper submitted and that have not started,
    for any wrapped executor.
    """

    def __init__(self, executor: Executor, limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self.executor = executor
        self.limit = limit
        self._count = 0  # slots taken: submitted (or being submitted) and not finished
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Calls submitted and not finished (queued or running)."""
        return self._count

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Submit to the wrapped executor; ``QueueFullError`` when ``limit`` calls are pending already."""
        with self._lock:
            if self.limit > 0 and self._count >= self.limit:
                raise QueueFullError(f"{self._count} calls are waiting (limit {self.limit})")
            self._count += 1
        # Outside the lock: an executor that runs the call at once may submit again from inside it.
        try:
            future = self.executor.submit(fn, *args, **kwargs)
        except BaseException:
            with self._lock:
                self._count -= 1
            raise
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._finished)  # at once if done already; also for a cancelled call
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            self._count -= 1
            self._pending.discard(future)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the wrapped executor down; with ``cancel_futures`` the calls not started yet never run."""
        if cancel_futures:
            with self._lock:
                waiting = list(self._pending)
            for future in waiting:
                future.cancel()  # a running or finished call is not affected
        self.executor.shutdown(wait=wait)

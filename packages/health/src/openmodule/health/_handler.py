"""The README's health handler API: HealthResult, health_ok, health_error and the guarded call."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, NamedTuple


class HealthResult(NamedTuple):
    """What a health handler returns: ``status`` ("ok" or "error"), an error ``message`` and optional ``meta``.

    Usage: ``return HealthResult("ok", None, {"queue": 3})`` (or use :func:`health_ok` / :func:`health_error`).
    """

    status: str
    message: str | None = None
    meta: dict[str, Any] | None = None


HealthHandlerType = Callable[[], HealthResult]


def health_ok(meta: dict[str, Any] | None = None) -> HealthResult:
    """A healthy result. Usage: ``return health_ok(meta=dict(this="is_easy"))``"""
    return HealthResult("ok", None, meta)


def health_error(message: str, meta: dict[str, Any] | None = None) -> HealthResult:
    """An unhealthy result; ``message`` becomes the pong's message. Usage: ``return health_error("no camera")``"""
    return HealthResult("error", message, meta)


class _Verdict(NamedTuple):
    """The handler's outcome as it goes into the pong (status "ok"/"error", message, meta)."""

    ok: bool
    message: str | None
    meta: dict[str, Any] | None


def _interpret(result: Any) -> _Verdict:
    # Services written against the README return HealthResult; accept any 2/3-tuple of the same shape too.
    if isinstance(result, tuple) and len(result) in (2, 3):
        status, message = result[0], result[1]
        meta = result[2] if len(result) == 3 else None
    else:
        return _Verdict(
            False, f"health handler returned {type(result).__name__}, expected a HealthResult", None
        )
    if meta is not None:
        if not isinstance(meta, dict):
            return _Verdict(False, f"health handler meta must be a dict, got {type(meta).__name__}", None)
        try:
            # The pong must always be encodable; a meta that is not JSON would lose the whole pong.
            json.dumps(meta)
        except (TypeError, ValueError) as exc:
            return _Verdict(False, f"health handler meta is not JSON serializable: {exc}", None)
    if status == "ok":
        return _Verdict(True, None, meta)
    if status == "error":
        text = None if message is None else str(message)
        return _Verdict(False, text or "health handler reported an error", meta)
    return _Verdict(False, f"health handler returned unknown status {status!r}", meta)


class _GuardedCall:
    """Runs the health handler in its own daemon thread and waits at most ``timeout`` seconds.

    A handler that hangs must not delay the pong past the poller's deadline, nor pile up threads: while one
    call is still running, later pings report it as hanging instead of starting another call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None
        self._running_since_ping = 0

    def __call__(self, handler: Callable[[], Any], timeout: float) -> tuple[_Verdict, BaseException | None]:
        with self._lock:
            if self._running is not None and self._running.is_alive():
                self._running_since_ping += 1
                return _Verdict(
                    False,
                    f"health handler still running after {self._running_since_ping} pings (hangs)",
                    None,
                ), None
            self._running = None
            self._running_since_ping = 0
            done = threading.Event()
            box: dict[str, Any] = {}

            def run() -> None:
                try:
                    box["result"] = handler()
                except BaseException as exc:
                    box["error"] = exc
                finally:
                    done.set()

            thread = threading.Thread(target=run, name="openmodule-health-handler", daemon=True)
            thread.start()
        if not done.wait(timeout):
            with self._lock:
                self._running = thread
            return _Verdict(False, f"health handler did not return within {timeout:g} s", None), None
        if "error" in box:
            exc = box["error"]
            return _Verdict(False, f"health handler raised {type(exc).__name__}: {exc}", None), exc
        return _interpret(box.get("result")), None

"""Rate-limited logging: a flood of bad input must not flood the log, and no problem may go unseen.

The one implementation for every distribution (the dispatcher's ``DropLog``, the RPC server and client,
health): a key's first ``burst`` records of an interval are logged, the rest only counted, and the next
record that is logged says how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from types import TracebackType
from typing import TypeAlias

__all__ = ["ExcInfo", "RateLimitedLog"]

#: What :meth:`logging.Logger.log` accepts as ``exc_info``.
ExcInfo: TypeAlias = (
    bool
    | BaseException
    | tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None]
    | None
)


class RateLimitedLog:
    """Logs at most ``burst`` records per key and ``interval`` seconds; the next logged record of a key ends
    with ``" (N more since the last report)"`` when N of its records were left out.

    Usage::

        bad_input = RateLimitedLog(logging.getLogger("x"), logging.WARNING)
        bad_input.log("invalid request on channel %s: %s", channel, summary, key="envelope")

    ``key`` defaults to the format string, so one kind of problem is limited however its arguments vary.
    ``interval`` and ``burst`` may be changed at any time (tests shorten the interval).
    """

    def __init__(
        self, logger: logging.Logger, level: int = logging.WARNING, interval: float = 10.0, burst: int = 1
    ) -> None:
        self.logger = logger
        self.level = level
        self.interval = interval
        self.burst = burst
        # key -> (start of its current interval, records logged in it)
        self._window: dict[str, tuple[float, int]] = {}
        self._suppressed: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, key: str) -> int | None:
        """Count one record of ``key``: ``None`` if it is left out, else how many were left out before it.

        Usage (format the record only when it is logged)::

            left_out = limit.admit(reason)
            if left_out is not None:
                log.error("dropped %s%s", expensive(detail), limit.more(left_out))
        """
        now = time.monotonic()
        with self._lock:
            start, logged = self._window.get(key, (now, 0))
            if now - start >= self.interval:
                start, logged = now, 0
            if logged >= self.burst:
                self._suppressed[key] += 1
                return None
            self._window[key] = (start, logged + 1)
            return self._suppressed.pop(key, 0)

    @staticmethod
    def more(left_out: int) -> str:
        """The suffix of a record after ``left_out`` records were left out (empty for none)."""
        return f" ({left_out} more since the last report)" if left_out else ""

    def log(
        self,
        msg: str,
        *args: object,
        key: str | None = None,
        level: int | None = None,
        exc_info: ExcInfo = None,
    ) -> bool:
        """Log ``msg % args`` at ``level`` (default: the instance's) unless ``key`` is over its limit.

        Returns whether the record was logged.
        """
        left_out = self.admit(msg if key is None else key)
        if left_out is None:
            return False
        self.logger.log(
            self.level if level is None else level, msg + self.more(left_out), *args, exc_info=exc_info
        )
        return True

"""Counting and rate-limited logging of dropped input: a flood of bad messages must not fill the disk."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter


class DropLog:
    """Counts drops per reason and logs each reason at most once per ``interval`` seconds.

    Usage::

        drops = DropLog(logging.getLogger("x"))
        drops.drop("invalid_json", topic="healthz", detail="Expecting value")
        drops.counts["invalid_json"]   # 1
    """

    def __init__(self, log: logging.Logger, interval: float = 10.0) -> None:
        self.log = log
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()
        self._lock = threading.Lock()

    def drop(self, reason: str, topic: str | None, detail: object, *, exc_info: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            self.counts[reason] += 1
            last = self._last.get(reason)
            if last is not None and now - last < self.interval:
                self._suppressed[reason] += 1
                return
            self._last[reason] = now
            suppressed = self._suppressed.pop(reason, 0)
        more = f" ({suppressed} more since the last report)" if suppressed else ""
        self.log.error(
            "dropped message (%s) on topic %r: %s%s", reason, topic, detail, more, exc_info=exc_info
        )

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

"""Rate-limited logging: a flood of bad input must not flood the log."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any


class RateLimitedLog:
    """Logs at most once per ``interval`` seconds per key, reporting how many were suppressed."""

    def __init__(self, logger: logging.Logger, level: int = logging.WARNING, interval: float = 10.0) -> None:
        self.logger = logger
        self.level = level
        self.interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def log(self, msg: str, *args: Any, key: str | None = None, exc_info: bool = False) -> None:
        key = msg if key is None else key
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            msg += f" ({suppressed} more since the last report)"
        self.logger.log(self.level, msg, *args, exc_info=exc_info)

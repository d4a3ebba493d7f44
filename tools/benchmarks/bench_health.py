"""Health metric updates and pong building, side by side with a raw baseline (in-process, no network).

(a) metric_inc: Health.metric_inc (lock, label key, checks) vs a raw dict increment under a plain lock.
(b) pong: building the pong of 50 checks and 20 metrics x 10 label combinations and encoding it to wire JSON,
    vs json.dumps of an equivalent prepared dict.
"""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace
from typing import Any

from openmodule.health import Health, HealthMetricType


class _Dispatcher:
    def register_handler(self, *args: Any, **kwargs: Any) -> None:
        return None


def _rate(fn: Any, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(100):
            fn()
        count += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def run(quick: bool = False) -> list[dict[str, Any]]:
    seconds = 0.5 if quick else 3.0
    config = SimpleNamespace(
        NAME="bench", VERSION="1.0", PARENT=None, COMPUTE_ID=1, DEBUG=False, TESTING=False
    )
    health = Health(_Dispatcher(), lambda message, topic: None, config=config)
    health.add_metric("n", HealthMetricType.count, "N", "n", labels=["gate"])
    lock = threading.Lock()
    raw: dict[Any, int] = {}

    def raw_inc() -> None:
        with lock:
            key = (("compute_id", "1"), ("gate", "gate_1"))
            raw[key] = raw.get(key, 0) + 1

    inc = _rate(lambda: health.metric_inc("n", gate="gate_1"), seconds)
    inc_base = _rate(raw_inc, seconds)

    for i in range(50):
        health.add_check(f"c{i}", f"C{i}", "d")
    for m in range(20):
        health.add_metric(f"m{m}", HealthMetricType.gauge, "M", "m", labels=["gate"])
        for g in range(10):
            health.metric_set(f"m{m}", g, gate=f"g{g}")
    prepared = json.loads(health.build_pong().json_bytes())
    pong_ms = 1000 / _rate(lambda: health.build_pong().json_bytes(), seconds / 3)
    pong_base_ms = 1000 / _rate(lambda: json.dumps(prepared, separators=(",", ":")).encode(), seconds / 3)
    return [
        {
            "benchmark": "health",
            "case": "metric_inc",
            "value": inc,
            "unit": "ops/s",
            "baseline_case": "raw dict increment under a lock",
            "baseline_value": inc_base,
            "target": ">= 10% of baseline",
            "met": inc >= 0.1 * inc_base,
        },
        {
            "benchmark": "health",
            "case": "pong build+encode (50 checks, 200 metric values)",
            "value": pong_ms,
            "unit": "ms",
            "baseline_case": "json.dumps of the same dict",
            "baseline_value": pong_base_ms,
            "target": "< 50 ms (poller deadline is seconds)",
            "met": pong_ms < 50,
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)

"""What scrubbing personal data costs while Sentry is on, beside sentry_sdk without any scrubbing.

Both sides run a real sentry_sdk client with a transport that only counts envelopes:
- a log line at INFO in a handler with ordinary variables (every such line becomes a breadcrumb);
- an f-string log line in a handler holding a vehicle (the scrubber finds and removes its plate);
- an exception captured in a handler holding a vehicle (one event).
Ours is ``init_sentry`` (keys, values, shapes); the baseline is ``sentry_sdk.init`` with the same transport and
no ``before_*`` hooks, i.e. the cost of Sentry itself.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sentry_sdk.transport import Transport


class _Counting(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def capture_envelope(self, envelope: Any) -> None:
        self.count += 1

    def flush(self, timeout: float, callback: Any | None = None) -> None:
        return None


def _rate(n: int, fn: Any) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def _cases(n_lines: int, n_events: int) -> dict[str, float]:
    import sentry_sdk

    from openmodule.models.vehicle import LPRCountry, LPRMedium, QRMedium, Vehicle

    log = logging.getLogger("bench.sentry")
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(logging.NullHandler())
    vehicle = Vehicle(
        id=1_700_000_000_000_000_000,
        lpr=LPRMedium(id="G ARIVO1", country=LPRCountry(code="A")),
        qr=QRMedium(id="QR-7731-XK"),
    )

    class Handler:
        def __init__(self) -> None:
            self.name = "om_bench_1"
            self.config = {"gate": "gate_1", "timeout": 3}
            self.count = 0

        def plain(self, request: dict[str, Any]) -> None:
            self.count += 1
            log.info("handled request %s of %s", request["id"], self.name)

        def with_vehicle(self, entry: Vehicle) -> None:
            log.info(f"vehicle {entry} entered at {self.config['gate']}")

        def failing(self, entry: Vehicle) -> None:
            try:
                raise RuntimeError("barrier failed")
            except RuntimeError:
                sentry_sdk.capture_exception()

    handler = Handler()
    request = {"id": "abc", "payload": {"x": 1}}
    return {
        "plain": _rate(n_lines, lambda: handler.plain(request)),
        "vehicle": _rate(n_lines, lambda: handler.with_vehicle(vehicle)),
        "event": _rate(n_events, lambda: handler.failing(vehicle)),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    import statistics
    import types

    import sentry_sdk

    from openmodule.sentry import deinit_sentry, init_sentry

    n_lines = 300 if quick else 2000
    n_events = 10 if quick else 60
    rounds = 3 if quick else 7
    config = types.SimpleNamespace(
        NAME="om_bench_1", RESOURCE="bench", VERSION="1", DEBUG=False, TESTING=False
    )
    ours: list[dict[str, float]] = []
    baseline: list[dict[str, float]] = []
    # the two sides alternate round by round, so a load change on the shared machine hits both alike
    for _ in range(rounds):
        init_sentry(config, transport=_Counting())
        ours.append(_cases(n_lines, n_events))
        deinit_sentry()
        sentry_sdk.init(transport=_Counting(), release="1", server_name="bench")
        baseline.append(_cases(n_lines, n_events))
        deinit_sentry()
    rows = []
    for key, case, unit, share in (
        ("plain", "INFO log line, ordinary variables", "lines/s", 0.3),
        ("vehicle", "INFO f-string log line holding a vehicle", "lines/s", 0.15),
        ("event", "captured exception, handler holding a vehicle", "events/s", 0.2),
    ):
        ratio = statistics.median(o[key] / b[key] for o, b in zip(ours, baseline, strict=True))
        rows.append(
            {
                "benchmark": "sentry",
                "case": f"scrubbing on: {case}",
                "value": round(statistics.median(o[key] for o in ours), 1),
                "unit": unit,
                "baseline_case": f"sentry_sdk without scrubbing: {case}",
                "baseline_value": round(statistics.median(b[key] for b in baseline), 1),
                "ratio": round(ratio, 3),
                "target": f">= {share:.0%} of baseline",
                "met": ratio >= share,
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

"""A minimal openmodule service: import time, startup-to-ready, shutdown time and peak RSS.

Each sample is a fresh subprocess against one real broker process:
- ours: ``import openmodule.core``, ``init_openmodule(settings)`` (waits for the broker through both SUB
  sockets), ``shutdown_openmodule()``;
- baselines: ``python -c pass`` (interpreter start and RSS), and a bare pyzmq PUB+SUB connect that waits
  until one message comes back through the broker (the least any service must do to be "ready").
Values are medians over the samples.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

SAMPLES_FULL = 9
SAMPLES_QUICK = 3


def _worker(case: str) -> dict[str, float]:
    import resource

    begin = time.perf_counter()
    if case == "ours":
        import types

        from openmodule.config import settings
        from openmodule.core import init_openmodule, shutdown_openmodule

        imported = time.perf_counter()
        settings.configure(types.ModuleType("config"))
        init_openmodule(settings, dsgvo=False, logging=False, sentry=False, catch_sigterm=False)
        ready = time.perf_counter()
        shutdown_openmodule()
        done = time.perf_counter()
    elif case == "pyzmq":
        import zmq

        imported = time.perf_counter()
        ctx = zmq.Context()
        pub = ctx.socket(zmq.PUB)
        sub = ctx.socket(zmq.SUB)
        pub.connect(os.environ["BROKER_SUB"])
        sub.connect(os.environ["BROKER_PUB"])
        sub.subscribe(b"__ping_bench")
        interval = 0.002
        while True:  # same strategy as the core: repeat with a growing interval until it comes back
            pub.send_multipart([b"__ping_bench", b"{}"])
            if sub.poll(interval * 1000):
                sub.recv_multipart()
                break
            interval = min(interval * 2, 0.1)
        ready = time.perf_counter()
        pub.close(0)
        sub.close(0)
        ctx.term()
        done = time.perf_counter()
    else:
        imported = ready = done = begin
    return {
        "import_s": imported - begin,
        "ready_s": ready - imported,
        "shutdown_s": done - ready,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _sample(case: str, env: dict[str, str]) -> dict[str, float]:
    if case == "pass":
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=env, timeout=60)
        wall = time.perf_counter() - begin
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=60,
        )
        return {"wall_s": wall, "peak_mb": int(out.stdout) / 1024}
    begin = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", case],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - begin
    return result


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(s[key] for s in samples)


def run(quick: bool = False) -> list[dict[str, Any]]:
    from openmodule.broker import BrokerProcess

    n = SAMPLES_QUICK if quick else SAMPLES_FULL
    with BrokerProcess() as broker:
        env = dict(
            os.environ,
            TESTING="true",
            NAME="bench_core",
            BROKER_SUB=broker.sub_endpoint,
            BROKER_PUB=broker.pub_endpoint,
        )
        env.pop("LOG_FORMAT", None)
        ours = [_sample("ours", env) for _ in range(n)]
        zmq_base = [_sample("pyzmq", env) for _ in range(n)]
        bare = [_sample("pass", env) for _ in range(n)]
    ms = 1000.0
    ready, base_ready = _median(ours, "ready_s") * ms, _median(zmq_base, "ready_s") * ms
    return [
        {
            "benchmark": "core",
            "case": "startup to ready (init_openmodule, broker up)",
            "value": round(ready, 2),
            "unit": "ms",
            "baseline_case": "bare pyzmq PUB+SUB connect until one message comes back",
            "baseline_value": round(base_ready, 2),
            "target": "< 100 ms",
            "met": ready < 100,
        },
        {
            "benchmark": "core",
            "case": "shutdown_openmodule",
            "value": round(_median(ours, "shutdown_s") * ms, 2),
            "unit": "ms",
            "baseline_case": "bare pyzmq close + term",
            "baseline_value": round(_median(zmq_base, "shutdown_s") * ms, 2),
            "target": "< 1000 ms",
            "met": _median(ours, "shutdown_s") < 1.0,
        },
        {
            "benchmark": "core",
            "case": "import openmodule.core",
            "value": round(_median(ours, "import_s") * ms, 1),
            "unit": "ms",
            "baseline_case": "import zmq",
            "baseline_value": round(_median(zmq_base, "import_s") * ms, 1),
            "target": None,
            "met": None,
        },
        {
            "benchmark": "core",
            "case": "minimal service process, wall time",
            "value": round(_median(ours, "wall_s") * ms, 1),
            "unit": "ms",
            "baseline_case": "python -c pass",
            "baseline_value": round(_median(bare, "wall_s") * ms, 1),
            "target": None,
            "met": None,
        },
        {
            "benchmark": "core",
            "case": "minimal service peak RSS",
            "value": round(_median(ours, "peak_mb"), 1),
            "unit": "MB",
            "baseline_case": "python -c pass (bare pyzmq connect: "
            f"{round(_median(zmq_base, 'peak_mb'), 1)} MB)",
            "baseline_value": round(_median(bare, "peak_mb"), 1),
            "target": None,
            "met": None,
        },
    ]


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        print(json.dumps(_worker(sys.argv[2])))
    else:
        for row in run(quick="--quick" in sys.argv):
            print(row)

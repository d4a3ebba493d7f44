"""Messaging throughput, loss and memory: openmodule's bus path side by side with raw pyzmq.

(a) raw:        pyzmq PUB -> broker subprocess -> SUB, orjson decode only
(b) openmodule: Publisher.publish(model) -> broker subprocess -> MessageLoop -> dispatcher -> handler
                (model validation included)

Rounds alternate (a) and (b); the target is judged on the median of the per-round ratios. Both publish from
one thread and receive in another, encode each message (a raw dict with orjson / a model), and send in windows
of WINDOW messages (each window waits until it has arrived), so no message is sent beyond the high-water mark
and any loss is real loss. Loopback only. ``--messages N`` runs one round of N messages (memory check).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from types import SimpleNamespace
from typing import Any

import orjson
import zmq

from openmodule.broker import BrokerProcess
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection
from openmodule.models.base import ZMQMessage

WINDOW = 500


class Small(ZMQMessage):
    type: str = "bench"
    seq: int
    plate: str = "G ARIVO1"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


class _Counter:
    def __init__(self) -> None:
        self.n = 0
        self.cond = threading.Condition()

    def add(self) -> None:
        with self.cond:
            self.n += 1
            if self.n % WINDOW == 0:
                self.cond.notify_all()

    def wait_for(self, target: int, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.n >= target, timeout)


def _windowed_send(send: Any, counter: _Counter, n: int) -> tuple[float, int]:
    start = time.perf_counter()
    for i in range(n):
        send(i)
        if (i + 1) % WINDOW == 0 and not counter.wait_for(i + 1):
            break
    counter.wait_for(n)
    return time.perf_counter() - start, n - counter.n


def bench_raw(broker: BrokerProcess, n: int) -> tuple[float, int]:
    ctx = zmq.Context()
    pub, sub = ctx.socket(zmq.PUB), ctx.socket(zmq.SUB)
    pub.connect(broker.sub_endpoint)
    sub.connect(broker.pub_endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"bench")
    sub.setsockopt(zmq.RCVTIMEO, 50)
    counter = _Counter()
    stop = threading.Event()

    def receive() -> None:
        # The least a raw subscriber can do: a blocking receive (the timeout only lets it stop), decode.
        while not stop.is_set():
            try:
                topic, body = sub.recv_multipart()
            except zmq.Again:
                continue
            if isinstance(orjson.loads(body), dict):
                counter.add()

    def send(i: int) -> None:
        # A raw publisher still encodes each message (same JSON as Small's), it just has no model.
        message = {"timestamp": time.time(), "name": "bench", "type": "bench", "seq": i, "plate": "G ARIVO1"}
        pub.send_multipart([b"bench", orjson.dumps(message)])

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    # the subscription must reach the publisher before counting: warm up until one arrives, then drain
    while counter.n == 0:
        send(0)
        time.sleep(0.01)
    time.sleep(0.2)
    counter.n = 0
    elapsed, lost = _windowed_send(send, counter, n)
    stop.set()
    receiver.join()
    pub.close(0)
    sub.close(0)
    ctx.term()
    return n / elapsed, lost


def bench_openmodule(broker: BrokerProcess, n: int) -> tuple[float, int, float]:
    ctx = zmq.Context()
    config = SimpleNamespace(NAME="bench", BROKER_SUB=broker.sub_endpoint, BROKER_PUB=broker.pub_endpoint)
    publisher = Publisher(ctx, config, linger=0)
    loop = MessageLoop(ctx, config, name="bench").start()
    counter = _Counter()
    loop.dispatcher.register_handler("bench", Small, lambda m: counter.add())
    wait_for_connection(publisher, loop, timeout=10)
    # warm-up (imports, caches, allocator) before the memory baseline
    _windowed_send(lambda i: publisher.publish(Small(seq=i, name="bench"), "bench"), counter, 2 * WINDOW)
    counter.n = 0
    rss_before = _rss_mb()
    elapsed, lost = _windowed_send(
        lambda i: publisher.publish(Small(seq=i, name="bench"), "bench"), counter, n
    )
    rss_growth = _rss_mb() - rss_before
    loop.stop()
    publisher.close(0)
    ctx.term()
    return n / elapsed, lost, rss_growth


def run(quick: bool = False, messages: int | None = None, rounds: int = 5) -> list[dict[str, Any]]:
    """Alternate raw and openmodule runs (the machine is shared: load changes) and compare medians."""
    n = messages or (5_000 if quick else 40_000)
    rounds = 1 if quick or messages else rounds
    raw_rates: list[float] = []
    om_rates: list[float] = []
    raw_lost = om_lost = 0
    rss_growth = 0.0
    with BrokerProcess() as broker:
        for _ in range(rounds):
            raw_rate, lost = bench_raw(broker, n)
            raw_rates.append(raw_rate)
            raw_lost += lost
            om_rate, lost, growth = bench_openmodule(broker, n)
            om_rates.append(om_rate)
            om_lost += lost
            rss_growth = max(rss_growth, growth)
    raw_rate, om_rate = statistics.median(raw_rates), statistics.median(om_rates)
    # Each round's pair ran under the same load, so the target is judged on the median of the paired
    # ratios (colleagues' test runs change the machine's speed between rounds).
    pairs = [o / r for o, r in zip(om_rates, raw_rates, strict=True)]
    ratio = statistics.median(pairs)
    n *= rounds
    return [
        {
            "benchmark": "messaging",
            "case": "openmodule publish->broker->dispatcher->handler (small msg)",
            "value": round(om_rate, 1),
            "unit": "msg/s",
            "baseline_case": "raw pyzmq PUB->broker->SUB + JSON decode",
            "baseline_value": round(raw_rate, 1),
            "target": ">= 50% of raw msg/s",
            "ratio": round(ratio, 3),
            "rounds": [round(x, 3) for x in pairs],
            "met": ratio >= 0.5,
        },
        {
            "benchmark": "messaging",
            "case": f"messages lost of {n} (windowed below HWM)",
            "value": float(om_lost),
            "unit": "msgs",
            "baseline_case": "raw pyzmq lost",
            "baseline_value": float(raw_lost),
            "target": "0 lost",
            "met": om_lost == 0,
        },
        {
            "benchmark": "messaging",
            "case": f"RSS growth over {n // rounds} messages after warm-up (largest of {rounds} runs)",
            "value": round(rss_growth, 2),
            "unit": "MB",
            "baseline_case": "",
            "baseline_value": None,
            "target": "flat (< 5 MB)",
            "met": rss_growth < 5.0,
        },
    ]


if __name__ == "__main__":
    import sys

    # --messages N: one round of N messages each (e.g. 1000000 for the memory check)
    count = int(sys.argv[sys.argv.index("--messages") + 1]) if "--messages" in sys.argv else None
    for row in run(quick="--quick" in sys.argv, messages=count):
        print(row)

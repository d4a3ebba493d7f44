"""Real services in subprocesses against the real broker."""

from __future__ import annotations

import signal
import time
from typing import Any


def test_service_ready_and_sigterm_exits_cleanly(run_service: Any) -> None:
    service = run_service()
    service.expect("READY")
    service.proc.send_signal(signal.SIGTERM)
    service.expect("KeyboardInterrupt")
    service.expect("INFO:openmodule.core:shutting down openmodule core")
    assert service.expect("THREADS") == "THREADS [] []"  # no thread left behind
    service.expect("EXITED")
    assert service.proc.wait(timeout=10) == 0


def test_health_pong_while_user_handler_blocks(run_service: Any, bus: Any) -> None:
    service = run_service(env={"NAME": "svc_blocking"})
    service.expect("READY")
    bus.subscribe("healthpong")
    # block the user dispatcher (repeat until the service's subscription is live)
    deadline = time.monotonic() + 10
    while not service.has_line("BLOCKING") and time.monotonic() < deadline:
        bus.publish({"type": "block", "name": "test", "timestamp": time.time()}, "block")
        time.sleep(0.05)
    assert service.has_line("BLOCKING")
    pong = None
    deadline = time.monotonic() + 10
    while pong is None and time.monotonic() < deadline:
        bus.publish({"type": "ping", "name": "health_poller", "timestamp": time.time()}, "healthz")
        try:
            candidate = bus.receive("healthpong", timeout=0.5)
        except AssertionError:
            continue
        if candidate.get("name") == "svc_blocking":
            pong = candidate
    assert pong is not None, "no pong while the user handler blocks"
    assert (pong["pong"]["status"], pong["pong"]["name"]) == ("ok", "svc_blocking")
    # shutdown still works while a handler blocks (the script releases it on KeyboardInterrupt)
    service.proc.send_signal(signal.SIGTERM)
    service.expect("EXITED")
    assert service.proc.wait(timeout=10) == 0

"""tools/demo: a small parking site of real openmodule service processes on an embedded broker.

Starts a broker process on free loopback ports, the example services from examples/ (gate, controller, presence
simulator) as subprocesses, and watches every message on the bus (a SUB socket subscribed to all topics). It
prints a timeline (who sent what, what answered, round-trip times), a summary table, checks the outcome and
shuts everything down. Exit code 0 when every check passed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GATE = "gate_in"


@dataclass
class Event:
    at: float  # time.monotonic() when the observer received it
    topic: str
    message: dict[str, Any]


class Observer:
    """Every message on the bus, in arrival order (a SUB socket with the empty prefix)."""

    def __init__(self, context: Any, pub_endpoint: str) -> None:
        import zmq

        self.events: list[Event] = []
        self.cond = threading.Condition()
        self.socket = context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVTIMEO, 100)
        self.socket.setsockopt(zmq.SUBSCRIBE, b"")
        self.socket.connect(pub_endpoint)
        self.running = True
        self.thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import zmq

        from openmodule.messaging import receive_message_from_socket

        while self.running:
            try:
                topic, message = receive_message_from_socket(self.socket)
            except zmq.Again:
                continue
            if topic is None or message is None or topic.startswith("__ping"):
                continue  # connection probes of the services, not part of the story
            with self.cond:
                self.events.append(Event(time.monotonic(), topic, message))
                self.cond.notify_all()

    def wait(self, predicate: Any, timeout: float, what: str) -> list[Event]:
        """Wait until ``predicate(events)`` holds; returns the matching events."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [e for e in self.events if predicate(e)]
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
                self.cond.wait(min(left, 0.2))

    def count(self, predicate: Any) -> int:
        with self.cond:
            return sum(1 for e in self.events if predicate(e))

    def wait_count(self, predicate: Any, n: int, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while self.count(predicate) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"timed out after {timeout:.0f}s waiting for {what} ({self.count(predicate)} of {n})"
                )
            time.sleep(0.05)

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.socket.close()


class Service:
    """One example service as a real subprocess; stdout is read line by line, stderr goes to a log file."""

    def __init__(self, name: str, script: Path, env: dict[str, str], log_dir: Path, args: list[str]) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "wb")
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(script), *args],
            cwd=str(script.parent),
            env={**env, "NAME": name},
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            # own session: a Ctrl-C in the terminal reaches only the demo, which then stops the services
            # in order (SIGTERM, as docker stop would)
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith("READY") for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} did not start (exit code {self.process.poll()}):\n"
                    + self.log_path.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.reader.join(2)
        self.log.close()
        return code


def service_env(broker: Any, workdir: Path, log_level: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"NAME", "SETTINGS_MODULE", "BROKER_HOST", "TESTING", "DEBUG", "AUTH_RESOURCE"}
    }
    env.update(
        BROKER_SUB=broker.sub_endpoint,
        BROKER_PUB=broker.pub_endpoint,
        LOG_LEVEL=log_level,
        DATABASE_FOLDER=str(workdir / "sqlite"),
        EXPORT_DIR=str(workdir / "export"),
        AUTH_RESOURCE="demo-device",
        DEBUG="True",
        PYTHONUNBUFFERED="1",
    )
    return env


# ---- timeline ------------------------------------------------------------------------------------------------
def describe(event: Event, rpc_sent: dict[str, float], pings_sent: dict[str, float]) -> str:
    """One readable timeline line: sender, topic, what it says; RTTs for RPC replies and health pongs."""
    m, topic = event.message, event.topic
    sender = m.get("name", "?")
    kind = m.get("type", "?")
    if topic.startswith("rpc-req-"):
        rpc_sent[str(m.get("rpc_id"))] = event.at
        return f"{sender:<12} -> {topic:<18} {kind} {m.get('request')}"
    if topic.startswith("rpc-rep-"):
        rtt = _ms(event.at, rpc_sent.get(str(m.get("rpc_id"))))
        response = dict(m.get("response") or {})
        return f"{sender:<12} -> {topic:<18} {kind} answered {response} (round trip {rtt})"
    if topic == "healthz":
        pings_sent[str(m.get("id") or m.get("timestamp"))] = event.at
        return f"{sender:<12} -> {topic:<18} ping"
    if topic == "healthpong":
        pong = m.get("pong") or {}
        rtt = _ms(event.at, max(pings_sent.values()) if pings_sent else None)
        return f"{sender:<12} -> {topic:<18} {pong.get('status')} meta={pong.get('meta')} (since ping {rtt})"
    if topic == "presence":
        lpr = ((m.get("medium") or {}).get("lpr") or {}).get("id")
        return f"{sender:<12} -> {topic:<18} {kind} vehicle {m.get('vehicle_id')} plate {lpr!r}"
    if topic == "alert":
        return f"{sender:<12} -> {topic:<18} {m.get('alert_type')} {m.get('status')} {m.get('alert_meta')}"
    if topic == "privacy":
        return f"{sender:<12} -> {topic:<18} {kind} vehicles {m.get('vehicle_ids')}"
    details = {k: v for k, v in m.items() if k not in {"name", "type", "timestamp"}}
    return f"{sender:<12} -> {topic:<18} {kind} {details}"


def _ms(now: float, then: float | None) -> str:
    return "?" if then is None else f"{(now - then) * 1000:.1f} ms"


# ---- the scenario --------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    import zmq

    from openmodule.broker import BrokerProcess
    from openmodule.config import settings
    from openmodule.messaging import Publisher

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # explicit handlers: a shell starting us in the background may have set SIGINT to "ignore"
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="openmodule-demo-"))
    services: dict[str, Service] = {}
    exit_codes: dict[str, int] = {}
    context = zmq.Context()
    broker = BrokerProcess().start()
    print(f"broker      sub={broker.sub_endpoint} pub={broker.pub_endpoint} (pid {broker.pid})", flush=True)
    settings.configure(
        types.SimpleNamespace(NAME="demo", BROKER_SUB=broker.sub_endpoint, BROKER_PUB=broker.pub_endpoint)
    )
    observer = Observer(context, broker.pub_endpoint)
    publisher = Publisher(context, settings)
    failures: list[str] = []
    scenario_end: int | None = None
    try:
        # The observer's subscription must be live before the story starts: probe until a hello comes back.
        deadline = time.monotonic() + 10
        while not observer.count(lambda e: e.topic == "demo" and e.message.get("type") == "hello"):
            if time.monotonic() > deadline:
                raise TimeoutError("the observer never saw its own hello through the broker")
            publisher.publish({"name": "demo", "type": "hello", "timestamp": time.time()}, "demo")
            time.sleep(0.05)

        env = service_env(broker, workdir, args.log_level)
        for name, script in [
            ("gate", EXAMPLES / "gate" / "gate.py"),
            ("controller", EXAMPLES / "controller" / "controller.py"),
        ]:
            services[name] = Service(name, script, env, workdir, [])
        for service in services.values():
            service.wait_ready(args.timeout)
        print(
            f"services    gate, controller ready after {time.monotonic() - started:.1f} s "
            f"(work dir {workdir})",
            flush=True,
        )

        def ping(tag: str) -> None:
            since = len(observer.events)
            publisher.publish(
                {"name": "demo", "type": "ping", "timestamp": time.time(), "id": tag}, "healthz"
            )
            for name in ("gate", "controller"):
                observer.wait(
                    lambda e, n=name: (
                        e.topic == "healthpong"
                        and e.message.get("name") == n
                        and observer.events.index(e) >= since
                    ),
                    args.timeout,
                    f"health pong of {name}",
                )

        ping("before")
        services["presence_sim"] = Service(
            "presence_sim",
            EXAMPLES / "presence_sim" / "presence_sim.py",
            env,
            workdir,
            ["--vehicles", str(args.vehicles), "--gate", GATE, "--dwell", str(args.dwell)],
        )
        exit_codes["presence_sim"] = services["presence_sim"].process.wait(args.timeout + args.vehicles * 2)
        observer.wait_count(
            lambda e: e.topic == "session" and e.message.get("type") == "finished",
            args.vehicles,
            args.timeout,
            "all sessions closed",
        )
        publisher.publish({"name": "demo", "type": "finish", "timestamp": time.time()}, "demo")
        observer.wait(
            lambda e: e.topic == "session" and e.message.get("type") == "anonymized",
            args.timeout,
            "the anonymization",
        )
        ping("after")
        scenario_end = len(observer.events)  # the summary judges the scenario, not later traffic

        if args.keep_running:
            print(
                f"\nthe site is up: watch it with\n  BROKER_PUB={broker.pub_endpoint} "
                f"{Path(sys.executable).parent / 'openmodule-broker'} tap\n"
                f"Ctrl-C stops everything.",
                flush=True,
            )
            try:
                while all(s.process.poll() is None for n, s in services.items() if n != "presence_sim"):
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
    except (TimeoutError, RuntimeError) as exc:
        failures.append(str(exc))
    except KeyboardInterrupt as exc:
        if not args.keep_running:
            failures.append(f"interrupted ({exc})")
    finally:
        for name, service in services.items():
            code = service.stop()
            exit_codes.setdefault(name, code)
            if name != "presence_sim":
                exit_codes[name] = code
        time.sleep(0.1)  # the last messages of the services reach the observer
        observer.close()
        publisher.close()
        broker.stop()
        context.term()

    print_timeline(observer.events, started, args.quiet)
    failures += summarize(observer.events[:scenario_end], exit_codes, workdir, args.vehicles)
    if services and failures:
        for service in services.values():
            print(
                f"\n--- {service.name} log (last lines) ---\n"
                + service.log_path.read_text(errors="replace")[-2000:],
                file=sys.stderr,
            )
    print(f"\ntotal {time.monotonic() - started:.1f} s")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        print(f"work dir kept: {workdir}")
        return 1
    if not args.keep_files:
        shutil.rmtree(workdir, ignore_errors=True)
        print("work dir removed (--keep-files keeps the database, the CSV and the service logs)")
    print("demo OK")
    return 0


def print_timeline(events: list[Event], started: float, quiet: bool) -> None:
    print("\n== timeline (every message on the bus; seconds since start) ==")
    rpc_sent: dict[str, float] = {}
    pings: dict[str, float] = {}
    for event in events:
        line = describe(event, rpc_sent, pings)
        if event.topic == "demo" and event.message.get("type") == "hello":
            continue
        if not quiet:
            print(f"{event.at - started:7.3f}  {line}")


def summarize(events: list[Event], exit_codes: dict[str, int], workdir: Path, vehicles: int) -> list[str]:
    """Print the summary table; return what went wrong."""

    def count(topic: str, **fields: Any) -> int:
        return sum(
            1 for e in events if e.topic == topic and all(e.message.get(k) == v for k, v in fields.items())
        )

    requests = {str(e.message.get("rpc_id")): e.at for e in events if e.topic == "rpc-req-gate"}
    rtts = [
        (e.at - requests[str(e.message.get("rpc_id"))]) * 1000
        for e in events
        if e.topic == "rpc-rep-gate"
        and str(e.message.get("rpc_id")) in requests
        and (e.message.get("response") or {}).get("status") == "ok"
    ]
    granted = count("session", type="started", access=True)
    denied = count("session", type="started", access=False)
    exported = [e.message for e in events if e.topic == "session" and e.message.get("type") == "exported"]
    anonymized = [e.message for e in events if e.topic == "session" and e.message.get("type") == "anonymized"]
    csv_path = Path(exported[0]["path"]) if exported else None
    csv_lines = (
        len(csv_path.read_bytes().decode("utf-16").splitlines()) - 1 if csv_path and csv_path.exists() else -1
    )
    db_rows = db_plates = -1
    db_file = workdir / "sqlite" / "controller.sqlite3"
    if db_file.exists():
        with sqlite3.connect(db_file) as db:
            db_rows, db_plates = db.execute("select count(*), count(plate) from parking_session").fetchone()
    expected_denied = sum(1 for i in range(vehicles) if i % 3 == 1)
    rows = [
        ("vehicles entered", count("presence", type="enter"), vehicles),
        ("vehicles left", count("presence", type="leave"), vehicles),
        ("RPC answered", len(rtts), vehicles),
        ("access granted", granted, vehicles - expected_denied),
        ("access denied", denied, expected_denied),
        ("session recorded", count("session", type="started"), vehicles),
        ("session closed", count("session", type="finished"), vehicles),
        ("sessions in database", db_rows, vehicles),
        ("alert raised", count("alert", alert_type="unknown_vehicle", status="error"), expected_denied),
        ("alert cleared", count("alert", alert_type="unknown_vehicle", status="ok"), expected_denied),
        ("health pongs", count("healthpong"), 4),
        ("anonymized", anonymized[0].get("records") if anonymized else 0, vehicles),
        ("plates left in database", db_plates, 0),
        ("CSV written (rows)", csv_lines, vehicles),
    ] + [(f"exit code {name}", code, 0) for name, code in exit_codes.items()]
    print("\n== summary ==")
    print(f"| {'what':<24} | {'value':>7} | {'expected':>8} | ok |")
    print(f"|{'-' * 26}|{'-' * 9}|{'-' * 10}|----|")
    failures = []
    for what, value, expected in rows:
        ok = value == expected
        print(f"| {what:<24} | {value!s:>7} | {expected!s:>8} | {'ok' if ok else '!!'} |")
        if not ok:
            failures.append(f"{what}: {value} (expected {expected})")
    if rtts:
        print(
            f"RPC round trip gate/access_check: min {min(rtts):.1f} ms, max {max(rtts):.1f} ms, "
            f"mean {sum(rtts) / len(rtts):.1f} ms"
        )
    if csv_path:
        print(f"CSV written: {csv_path}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/demo",
        description="Run a small parking site of real openmodule services (gate, controller, presence "
        "simulator) on an embedded broker, print the timeline and a summary.",
    )
    parser.add_argument("--vehicles", type=int, default=5, help="vehicles the simulator sends (default 5)")
    parser.add_argument("--dwell", type=float, default=0.3, help="seconds each vehicle stays (default 0.3)")
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the site up after the scenario (watch it with `openmodule-broker tap`)",
    )
    parser.add_argument("--keep-files", action="store_true", help="keep the work dir (database, CSV, logs)")
    parser.add_argument("--quiet", action="store_true", help="summary only, no timeline")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each step")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the services (logs go to files)")
    args = parser.parse_args(argv)
    if args.vehicles < 1:
        parser.error("--vehicles must be at least 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

"""``openmodule-broker``: run the broker, or ``openmodule-broker tap`` to watch the traffic."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import zmq

from openmodule import config
from openmodule.broker._broker import Broker


def _install_stop_handlers(stop: threading.Event) -> None:
    def handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _stop_at_stdin_eof(stop: threading.Event) -> None:
    """Set ``stop`` once stdin reaches end of file: the process holding the other end has gone."""

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader aborts the interpreter
        # at exit (it cannot take the reader's lock).
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def run_broker(
    sub: str, pub: str, *, exit_with_stdin: bool = False, max_message_size: int | None = None
) -> int:
    """Run the broker until SIGTERM/SIGINT; prints ``READY sub=... pub=...`` once bound.

    With ``exit_with_stdin`` it also stops when stdin is closed, so a broker started by a test or a tool
    does not outlive a parent that died without stopping it. ``max_message_size``: see ``Broker``.
    """
    stop = threading.Event()
    _install_stop_handlers(stop)
    if exit_with_stdin:
        _stop_at_stdin_eof(stop)
    broker = Broker(sub, pub, max_message_size=max_message_size)
    try:
        broker.start()
    except zmq.ZMQError as exc:
        # On stdout too: BrokerProcess reads the first line to tell "ready" from "failed".
        print(f"FAILED cannot bind {sub} / {pub}: {exc}", flush=True)
        return 2
    print(f"READY sub={broker.sub_endpoint} pub={broker.pub_endpoint}", flush=True)
    # A timed wait keeps the main thread responsive to signals on every platform.
    while not stop.wait(1.0):
        if not broker.running:
            print("openmodule-broker: proxy ended unexpectedly", file=sys.stderr, flush=True)
            return 1
    broker.stop()
    return 0


def _printable(text: str) -> str:
    """``text`` with every character a terminal could act on escaped (``\\x1b``, ``\\x9b``, ``\\u202e``).

    Control characters (C0 and C1: ESC and CSI start terminal escape sequences), format characters (bidi
    overrides, zero-width) and line/paragraph separators are shown as Python escapes, never written raw.
    """
    if text.isprintable():  # the common case: one C-level pass
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def format_message(topic_frame: bytes, body: bytes) -> str:
    """One readable line for a message: time, topic, type, name, then the other fields.

    Everything taken from the message is escaped (``_printable``): the tap shows what was sent, it never
    lets a message drive the terminal. JSON nested too deeply to read is shown as such.
    """
    now = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
    topic = _printable(topic_frame.decode("utf-8", errors="backslashreplace"))
    try:
        data: Any = json.loads(body)
    except RecursionError:
        return f"{now} {topic} <JSON nested too deeply to show> {body[:200]!r}"
    except ValueError:
        return f"{now} {topic} <invalid JSON> {body[:200]!r}"
    if not isinstance(data, dict):
        return f"{now} {topic} <not an object> {body[:200]!r}"
    try:
        parts = [now, topic, f"type={data.pop('type', None)}", f"name={data.pop('name', None)}"]
        data.pop("timestamp", None)
        parts.extend(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in data.items())
    except RecursionError:  # loads managed, dumps (deeper in the stack) did not
        return f"{now} {topic} <JSON nested too deeply to show> {body[:200]!r}"
    return _printable(" ".join(parts))


def run_tap(pub: str, prefixes: Sequence[str], out: Any = None, stop: threading.Event | None = None) -> int:
    """Print every message on ``pub`` whose topic starts with one of ``prefixes`` (all if none).

    Runs until SIGTERM/SIGINT, or until ``stop`` is set when one is given (no signal handlers then).
    """
    out = out or sys.stdout
    if stop is None:
        stop = threading.Event()
        _install_stop_handlers(stop)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    for prefix in prefixes or [""]:
        sock.setsockopt(zmq.SUBSCRIBE, prefix.encode())
    sock.connect(pub)
    print(f"# tapping {pub} for {list(prefixes) or 'all topics'}", file=out, flush=True)
    try:
        while not stop.is_set():
            if not sock.poll(200):
                continue
            frames = sock.recv_multipart()
            if len(frames) != 2:
                line = f"<{len(frames)} frames> {[f[:60] for f in frames]!r}"
            else:
                try:
                    line = format_message(frames[0], frames[1])
                except Exception as exc:  # a message the tap cannot show must not end the tap
                    line = (
                        f"<unreadable message: {type(exc).__name__}> {frames[0][:60]!r} {frames[1][:200]!r}"
                    )
            print(line, file=out, flush=True)
    finally:
        sock.close(0)
        ctx.term()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``openmodule-broker`` console script."""
    parser = argparse.ArgumentParser(prog="openmodule-broker", description="openmodule message broker")
    parser.add_argument("--sub", default=None, help="XSUB endpoint services publish to (BROKER_SUB)")
    parser.add_argument("--pub", default=None, help="XPUB endpoint services subscribe at (BROKER_PUB)")
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="also stop when stdin is closed (for a parent process that keeps the other end open)",
    )
    parser.add_argument(
        "--max-message-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="largest frame a publisher may send; 0: no limit (default: MAX_MESSAGE_SIZE, else 4 MiB)",
    )
    sub = parser.add_subparsers(dest="command")
    tap = sub.add_parser("tap", help="print live traffic as readable lines")
    tap.add_argument("prefixes", nargs="*", metavar="TOPIC-PREFIX")
    tap.add_argument("--pub", dest="tap_pub", default=None, help="XPUB endpoint to tap (BROKER_PUB)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "tap":
        return run_tap(args.tap_pub or args.pub or config.broker_pub(), args.prefixes)
    return run_broker(
        args.sub or config.broker_sub(),
        args.pub or config.broker_pub(),
        exit_with_stdin=args.exit_with_stdin,
        max_message_size=args.max_message_size,
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

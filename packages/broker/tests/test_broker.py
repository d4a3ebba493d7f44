from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import zmq

from openmodule.broker import Broker, BrokerProcess, BrokerStartError, start_broker_process
from openmodule.broker._cli import format_message, run_tap


def test_broker_in_a_thread_forwards_and_stops(roundtrip) -> None:
    broker = Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    broker.start()
    try:
        assert broker.running
        assert broker.sub_endpoint.startswith("tcp://127.0.0.1:") and not broker.sub_endpoint.endswith("*")
        assert roundtrip(broker.sub_endpoint, broker.pub_endpoint, [b"topic", b'{"a":1}']) == [
            b"topic",
            b'{"a":1}',
        ]
    finally:
        broker.stop()
    assert not broker.running
    broker.stop()  # idempotent


def test_bind_conflict_raises_at_start() -> None:
    with Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*") as first:
        second = Broker(first.sub_endpoint, "tcp://127.0.0.1:*")
        with pytest.raises(zmq.ZMQError):
            second.start()


def test_broker_process_forwards_restarts_on_same_ports_and_stops_cleanly(roundtrip) -> None:
    handle = start_broker_process()
    try:
        sub, pub = handle.sub_endpoint, handle.pub_endpoint
        assert roundtrip(sub, pub, [b"x", b"1"]) == [b"x", b"1"]
        first_pid = handle.pid
        handle.restart()
        assert (handle.sub_endpoint, handle.pub_endpoint) == (sub, pub)
        assert handle.pid != first_pid
        assert roundtrip(sub, pub, [b"y", b"2"]) == [b"y", b"2"]
        proc = handle.process
        assert proc is not None
        handle.stop()
        assert proc.returncode == 0  # SIGTERM is a clean shutdown, not a kill
    finally:
        handle.stop()


def test_kill_and_start_again(roundtrip) -> None:
    with BrokerProcess() as handle:
        proc = handle.process
        handle.kill()
        assert proc is not None and proc.returncode == -signal.SIGKILL
        assert not handle.running
        handle.start()
        assert roundtrip(handle.sub_endpoint, handle.pub_endpoint, [b"z", b"3"]) == [b"z", b"3"]


def test_port_in_use_is_reported() -> None:
    with BrokerProcess() as first:
        with pytest.raises(BrokerStartError, match="FAILED cannot bind"):
            BrokerProcess(first.sub_endpoint, start_timeout=3).start()


def test_sigint_on_the_console_script_entry_point(om_wait_until) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openmodule.broker",
            "--sub",
            "tcp://127.0.0.1:*",
            "--pub",
            "tcp://127.0.0.1:*",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"READY sub=tcp://127.0.0.1:")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


def _gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for a reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_broker_process_does_not_outlive_a_parent_that_dies(om_wait_until) -> None:
    parent = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from openmodule.broker import BrokerProcess\n"
            "broker = BrokerProcess().start(); print(broker.pid, flush=True); os._exit(3)",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert parent.returncode == 3, parent.stderr
    broker_pid = int(parent.stdout.split()[0])
    om_wait_until(lambda: _gone(broker_pid), what="the orphaned broker to stop")


def test_console_script_exits_with_stdin_when_asked() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openmodule.broker",
            "--sub",
            "tcp://127.0.0.1:*",
            "--pub",
            "tcp://127.0.0.1:*",
            "--exit-with-stdin",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().startswith(b"READY sub=tcp://127.0.0.1:")
        proc.stdin.close()
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


def test_format_message() -> None:
    line = format_message(
        b"healthz", b'{"timestamp": 1.0, "type": "ping", "name": "svc", "id": "\\u00e4", "n": [1]}'
    )
    assert line.split(" ", 1)[1] == 'healthz type=ping name=svc id="ä" n=[1]'
    assert format_message(b"t", b"{bad").split(" ", 1)[1] == "t <invalid JSON> b'{bad'"
    assert format_message(b"t", b"[1]").split(" ", 1)[1] == "t <not an object> b'[1]'"


def test_tap_prints_matching_traffic(om_zmq_context: zmq.Context, om_wait_until) -> None:
    with Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*") as broker:
        out = io.StringIO()
        stop = threading.Event()
        thread = threading.Thread(
            target=run_tap, args=(broker.pub_endpoint, ["rpc-"], out, stop), daemon=True
        )
        thread.start()
        pub = om_zmq_context.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        pub.connect(broker.sub_endpoint)
        try:

            def seen() -> bool:
                pub.send_multipart([b"other", b'{"type":"x","name":"n"}'])
                pub.send_multipart([b"rpc-req", b'{"type":"req","name":"svc","a":1}'])
                return "rpc-req type=req name=svc a=1" in out.getvalue()

            om_wait_until(seen, what="tap output")
            assert "other" not in out.getvalue()
        finally:
            pub.close(0)
            stop.set()
            thread.join(10)
        assert not thread.is_alive()


def test_format_message_escapes_what_a_terminal_would_act_on() -> None:
    body = (
        '{"type": "\\u001b[2J", "name": "a\\u009b31mb", "k\\u001b]0;title\\u0007": "\\u202egnp.exe", '
        '"ok": "ä € \\u2028"}'
    ).encode()
    line = format_message(b"topic\x1b[31m", body)
    # no control, format or separator character reaches the terminal; the text stays readable
    assert all(ch.isprintable() for ch in line), repr(line)
    assert line.split(" ", 1)[1] == (
        'topic\\x1b[31m type=\\x1b[2J name=a\\x9b31mb k\\x1b]0;title\\x07="\\u202egnp.exe" ok="ä € \\u2028"'
    )


def test_format_message_of_json_nested_too_deeply() -> None:
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert format_message(b"t", deep).split(" ", 1)[1].startswith("t <JSON nested too deeply to show> b'{")
    # nesting within what the parser handles is shown as it is
    assert format_message(b"t", b'{"a": [[[1]]]}').split(" ", 1)[1] == "t type=None name=None a=[[[1]]]"


def test_tap_survives_deep_nesting_and_escapes_control_characters(
    om_zmq_context: zmq.Context, om_wait_until
) -> None:
    with Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*") as broker:
        out = io.StringIO()
        stop = threading.Event()
        thread = threading.Thread(target=run_tap, args=(broker.pub_endpoint, [], out, stop), daemon=True)
        thread.start()
        pub = om_zmq_context.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        pub.connect(broker.sub_endpoint)
        deep = b'{"type": "deep", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        try:

            def seen(marker: str) -> bool:
                pub.send_multipart([b"nested", deep])
                pub.send_multipart([b"esc\x1b[2J", b'{"type": "x\\u001b[31m", "name": "\\u009b1m"}'])
                pub.send_multipart([b"after", json.dumps({"type": marker, "name": "n"}).encode()])
                return f"after type={marker} name=n" in out.getvalue()

            om_wait_until(lambda: seen("first"), what="tap output")
            assert thread.is_alive()
            # after the deep message and the escapes the tap still prints what comes next
            om_wait_until(lambda: seen("second"), what="tap output after the bad messages")
            text = out.getvalue()
            assert "nested <JSON nested too deeply to show>" in text
            assert "esc\\x1b[2J type=x\\x1b[31m name=\\x9b1m" in text
            assert "\x1b" not in text and "\x9b" not in text
        finally:
            pub.close(0)
            stop.set()
            thread.join(10)
        assert not thread.is_alive()


# -- the frame limit: a publisher cannot make the broker hold big frames ----------------------------------
def _big_then_small(om_zmq_context: zmq.Context, sub_endpoint: str, pub_endpoint: str) -> list[int]:
    """Send one 64 KB frame on ``t``, then small ones until one comes through; the sizes received."""
    pub = om_zmq_context.socket(zmq.PUB)
    sub = om_zmq_context.socket(zmq.SUB)
    for sock in (pub, sub):
        sock.setsockopt(zmq.LINGER, 0)
    try:
        pub.connect(sub_endpoint)
        sub.connect(pub_endpoint)
        sub.setsockopt(zmq.SUBSCRIBE, b"t")
        received: list[int] = []
        deadline = time.monotonic() + 10
        while not received:  # the subscription travels through the broker first
            assert time.monotonic() < deadline, "the probe never came through"
            pub.send_multipart([b"t", b"probe"])
            if sub.poll(100):
                received.append(len(sub.recv_multipart()[1]))
        pub.send_multipart([b"t", b"x" * 65536])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pub.send_multipart([b"t", b"small"])  # repeated: after a dropped connection the PUB reconnects
            if sub.poll(100):
                size = len(sub.recv_multipart()[1])
                received.append(size)
                if size == len(b"small"):
                    while sub.poll(200):  # whatever else is in flight
                        received.append(len(sub.recv_multipart()[1]))
                    return received
        raise AssertionError(f"nothing came through after the big frame: {received}")
    finally:
        pub.close(0)
        sub.close(0)


def test_a_frame_above_the_limit_is_not_forwarded_and_the_publisher_gets_through_again(
    om_zmq_context,
) -> None:
    with Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", max_message_size=4096) as broker:
        assert broker.max_message_size == 4096
        sizes = _big_then_small(om_zmq_context, broker.sub_endpoint, broker.pub_endpoint)
    assert 65536 not in sizes
    assert sizes[0] == len(b"probe") and sizes[-1] == len(b"small")


def test_without_a_limit_big_frames_are_forwarded(om_zmq_context) -> None:
    with Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", max_message_size=0) as broker:
        assert broker.max_message_size == -1
        sizes = _big_then_small(om_zmq_context, broker.sub_endpoint, broker.pub_endpoint)
    assert 65536 in sizes


def test_the_default_limit_is_the_max_message_size_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAX_MESSAGE_SIZE", raising=False)
    assert Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*").max_message_size == 4 * 1024 * 1024
    monkeypatch.setenv("MAX_MESSAGE_SIZE", "12345")
    assert Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*").max_message_size == 12345
    monkeypatch.setenv("MAX_MESSAGE_SIZE", "0")
    assert Broker("tcp://127.0.0.1:*", "tcp://127.0.0.1:*").max_message_size == -1


def test_the_broker_process_takes_the_limit_from_its_command_line(om_zmq_context) -> None:
    with BrokerProcess(max_message_size=4096) as handle:
        sizes = _big_then_small(om_zmq_context, handle.sub_endpoint, handle.pub_endpoint)
    assert 65536 not in sizes and sizes[-1] == len(b"small")

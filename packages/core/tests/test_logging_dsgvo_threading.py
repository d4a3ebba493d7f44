from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from openmodule.core import copy_dsgvo_config
from openmodule.logging import JsonFormatter, json_logging_requested


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "TESTING")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- logging ---------------------------------------------------------------------------------------
def test_json_formatter() -> None:
    record = logging.LogRecord("svc.x", logging.WARNING, "f.py", 3, "gate %s", ("g1",), None)
    record.gate = "g1"
    data = json.loads(JsonFormatter().format(record))
    assert (data["level"], data["logger"], data["message"], data["gate"]) == (
        "WARNING",
        "svc.x",
        "gate g1",
        "g1",
    )
    assert data["time"].endswith("+00:00")


def test_json_logging_requested(monkeypatch: pytest.MonkeyPatch) -> None:
    assert json_logging_requested(types.SimpleNamespace()) is False
    assert json_logging_requested(types.SimpleNamespace(LOG_FORMAT="JSON")) is True
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert json_logging_requested(None) is True


def test_init_logging_plain_and_json(tmp_path: Path) -> None:
    code = """
        import types, warnings
        from openmodule.logging import init_logging
        init_logging(types.SimpleNamespace(LOG_LEVEL=30))
        import logging
        logging.getLogger("a").info("hidden")
        logging.getLogger("a").warning("shown %d", 1)
        warnings.warn("captured")
    """
    plain = run_python(code, tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "hidden" not in plain.stderr
    assert "WARNING:a:shown 1" in plain.stderr
    assert "py.warnings" in plain.stderr
    as_json = run_python(code, tmp_path, {"LOG_FORMAT": "json"})
    lines = [json.loads(line) for line in as_json.stderr.splitlines() if line.startswith("{")]
    assert [(r["logger"], r["message"]) for r in lines][0] == ("a", "shown 1")
    assert lines[1]["logger"] == "py.warnings"


def test_init_logging_needs_log_level() -> None:
    from openmodule.logging import init_logging

    with pytest.raises(AssertionError, match="LOG_LEVEL"):
        init_logging(types.SimpleNamespace())


# -- dsgvo -----------------------------------------------------------------------------------------
def test_dsgvo_copy(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (data / "config.yml").write_text("a: 1\n")
    (work / "dsgvo-default.yml").write_text("retention: 30\n")
    copy_dsgvo_config(data, work)
    assert (data / "dsgvo-config.yml").read_text() == "a: 1\n"
    assert (data / "dsgvo-default.yml").read_text() == "retention: 30\n"
    assert sorted(p.name for p in data.iterdir()) == ["config.yml", "dsgvo-config.yml", "dsgvo-default.yml"]
    (data / "config.yml").write_text("a: 2\n")
    copy_dsgvo_config(data, work)  # overwrites
    assert (data / "dsgvo-config.yml").read_text() == "a: 2\n"


def test_dsgvo_copy_without_sources_or_data_folder(tmp_path: Path) -> None:
    copy_dsgvo_config(tmp_path / "missing", tmp_path)
    assert list(tmp_path.iterdir()) == []
    copy_dsgvo_config(tmp_path, tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- thread wrapper --------------------------------------------------------------------------------
def test_thread_crash_exits_process_with_code(tmp_path: Path) -> None:
    code = """
        import threading, time
        from openmodule.threading import get_thread_wrapper
        def boom():
            raise RuntimeError("thread exploded")
        threading.Thread(target=get_thread_wrapper(boom, return_code=13)).start()
        time.sleep(30)
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 13
    assert "thread exploded" in result.stderr


def test_thread_crash_in_testing_goes_to_file(tmp_path: Path) -> None:
    code = """
        import threading, time
        from openmodule.threading import get_thread_wrapper
        threading.Thread(target=get_thread_wrapper(lambda: 1 / 0)).start()
        time.sleep(30)
    """
    result = run_python(code, tmp_path, {"TESTING": "true"})
    assert result.returncode == 10
    assert "ZeroDivisionError" in (tmp_path / "thread_wrapper_error.log").read_text()


def test_keyboard_interrupt_and_context_terminated_are_quiet() -> None:
    import zmq

    from openmodule.threading import get_thread_wrapper

    def interrupted() -> None:
        raise KeyboardInterrupt

    def terminated() -> None:
        raise zmq.ContextTerminated

    assert get_thread_wrapper(interrupted)() is None
    assert get_thread_wrapper(terminated)() is None
    assert get_thread_wrapper(lambda x: x + 1)(1) == 2

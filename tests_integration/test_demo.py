"""tools/demo runs the example parking site end to end and exits 0 with a truthful timeline and summary."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def demo_command() -> list[str]:
    """tools/demo when its `python3` is this interpreter's version and this venv is one tools/test built
    (then it reuses this venv); else the script itself with this interpreter (tools/demo would set up a
    venv of another Python, or install into a venv it does not own, such as the Pants sandbox's)."""
    python3 = shutil.which("python3")
    ours = (Path(sys.prefix) / ".openmodule-stamp").exists()
    same = (
        ours
        and python3
        and subprocess.run(
            [python3, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        ).stdout.strip()
        == str(sys.version_info[:2])
    )
    return (
        [str(ROOT / "tools" / "demo")] if same else [sys.executable, str(ROOT / "tools" / "lib" / "demo.py")]
    )


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENMODULE_VENV": sys.prefix}
    for key in ("NAME", "BROKER_SUB", "BROKER_PUB", "SETTINGS_MODULE", "DATABASE_FOLDER"):
        env.pop(key, None)
    return subprocess.run(
        [*demo_command(), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def summary_value(output: str, what: str) -> str:
    match = re.search(rf"^\| {re.escape(what)}\s*\|\s*(\S+) \|\s*(\S+) \| (ok|!!) \|$", output, re.M)
    assert match, f"no summary row {what!r} in:\n{output}"
    assert match.group(3) == "ok", match.group(0)
    return match.group(1)


def test_demo_runs_the_site_and_exits_0():
    result = run_demo("--vehicles", "3")
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert out.rstrip().endswith("demo OK")
    # the timeline: who sent what, and what answered
    timeline = out.split("== timeline")[1].split("== summary")[0]
    assert len(re.findall(r"presence_sim -> presence\s+enter vehicle \d+ plate", timeline)) == 3
    assert len(re.findall(r"presence_sim -> presence\s+leave vehicle", timeline)) == 3
    assert re.search(
        r"gate\s+-> rpc-rep-gate\s+access_check answered \{'access': True, "
        r"'matched_plate': 'G ARIVO 1', 'customer': 'arivo', 'status': 'ok'\} "
        r"\(round trip [\d.]+ ms\)",
        timeline,
    )
    assert re.search(r"controller\s+-> alert\s+unknown_vehicle error", timeline)
    assert re.search(r"controller\s+-> alert\s+unknown_vehicle ok", timeline)
    assert re.search(r"controller\s+-> privacy\s+anonymize vehicles \['\d+', '\d+', '\d+'\]", timeline)
    assert len(re.findall(r"-> healthpong\s+ok", timeline)) == 4
    # the summary
    assert summary_value(out, "vehicles entered") == "3"
    assert summary_value(out, "RPC answered") == "3"
    assert summary_value(out, "access denied") == "1"
    assert summary_value(out, "session recorded") == "3"
    assert summary_value(out, "sessions in database") == "3"
    assert summary_value(out, "alert raised") == "1"
    assert summary_value(out, "alert cleared") == "1"
    assert summary_value(out, "anonymized") == "3"
    assert summary_value(out, "plates left in database") == "0"
    assert summary_value(out, "CSV written (rows)") == "3"
    for service in ("gate", "controller", "presence_sim"):
        assert summary_value(out, f"exit code {service}") == "0"


def test_demo_help_lists_the_options():
    result = run_demo("--help")
    assert result.returncode == 0, result.stderr
    for option in ("--vehicles", "--keep-running", "--quiet", "--keep-files"):
        assert option in result.stdout

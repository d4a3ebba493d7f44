"""The example services' own test suites (examples/<service>/tests) pass, run as a user would run them:
`pytest examples/` from the repository root, in a fresh interpreter of this venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_example_suites_pass():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "examples", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    # every service's suite ran (a folder silently skipped would still "pass")
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "examples", "-q", "--collect-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for service in ("gate", "controller", "presence_sim"):
        assert f"examples/{service}/tests/" in listed, f"no tests collected for examples/{service}"

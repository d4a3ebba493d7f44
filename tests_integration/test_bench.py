"""tools/bench --quick runs every benchmark to the end and writes a complete results file.

This guards the benchmark harness against rot; it never judges speed (figures belong to full runs of
tools/bench, not to tests).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted(p.stem.removeprefix("bench_") for p in (ROOT / "tools" / "benchmarks").glob("bench_*.py"))


@pytest.mark.slow
def test_quick_bench_runs_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lib" / "run_bench.py"), "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["failed"] == []
    assert results["quick"] is True
    assert sorted({row["benchmark"] for row in results["results"]}) == BENCHMARKS
    for row in results["results"]:
        assert isinstance(row["value"], int | float), row
        assert row["value"] >= 0, row
        assert row["met"] in (True, False, None), row
        if "rounds" in row:  # paired rounds: the ratio shown is their median
            assert row["ratio"] == pytest.approx(statistics.median(row["rounds"]), abs=2e-3), row
    assert set(results["steal_percent"]) == set(BENCHMARKS)
    assert "8 caller threads" in proc.stdout

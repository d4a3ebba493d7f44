"""tools/bench: run tools/benchmarks/bench_*.py, print one table, write JSON results.

Each benchmark module exposes ``run(quick: bool = False) -> list[dict]``; a row names its case, the
value and unit, the raw baseline measured in the same run, the target and whether it was met.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "tools" / "benchmarks"


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
    }


def cpu_times() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs from /proc/stat; None where there is none."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    values = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    return values[7], sum(values)


def steal_percent(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """Share of CPU time the hypervisor gave to other guests: side-by-side figures taken under much steal
    are noisy (a latency-bound raw baseline suffers more than a batched path)."""
    if before is None or after is None or after[1] == before[1]:
        return None
    return round(100.0 * (after[0] - before[0]) / (after[1] - before[1]), 1)


#: Above this share of stolen CPU a benchmark's side-by-side figures are flagged as unreliable: a
#: latency-bound raw baseline (one caller waiting on each reply) collapses under host contention and makes
#: ratios look better than they are (seen: a raw RPC caller at a third of its usual rate, 11.7 % steal).
NOISY_STEAL_PERCENT = 5.0


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.path.insert(0, str(BENCHMARKS))
    spec.loader.exec_module(module)
    return module


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (smoke check)")
    parser.add_argument(
        "--json", default=str(ROOT / ".bench" / "results.json"), help="where to write results"
    )
    parser.add_argument("only", nargs="*", help="benchmark names (bench_<name>.py)")
    args = parser.parse_args()

    files = sorted(BENCHMARKS.glob("bench_*.py"))
    if args.only:
        files = [f for f in files if f.stem.removeprefix("bench_") in args.only]
    rows: list[dict] = []
    failures: list[str] = []
    steal: dict[str, float | None] = {}
    started = time.monotonic()
    for path in files:
        name = path.stem.removeprefix("bench_")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        times0 = cpu_times()
        try:
            result = load(path).run(quick=args.quick)
        except Exception:
            traceback.print_exc()
            failures.append(name)
            continue
        for row in result:
            row.setdefault("benchmark", name)
            rows.append(row)
        steal[name] = steal_percent(times0, cpu_times())
        stolen = "" if steal[name] is None else f", CPU steal {steal[name]}%"
        print(f"  {name}: {time.monotonic() - t0:.1f}s{stolen}", file=sys.stderr, flush=True)

    # "ratio" is the median of paired per-round ratios where a benchmark alternates its two sides
    # (the target is then judged on it, not on the two medians shown beside it).
    headers = ["benchmark", "case", "value", "unit", "baseline", "baseline value", "ratio", "target", "met"]
    table = [
        [
            r.get("benchmark"),
            r.get("case"),
            fmt(r.get("value")),
            r.get("unit", ""),
            r.get("baseline_case") or "-",
            fmt(r.get("baseline_value")),
            fmt(r.get("ratio")),
            r.get("target") or "-",
            {True: "yes", False: "NO", None: "-"}[r.get("met")],
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *table, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))
    print(line)
    print("-" * len(line))
    for t in table:
        print("  ".join(str(x).ljust(w) for x, w in zip(t, widths, strict=False)))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "quick": args.quick,
                "seconds": time.monotonic() - started,
                "steal_percent": steal,
                "results": rows,
                "failed": failures,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nresults: {out}  ({time.monotonic() - started:.0f}s)")
    noisy = {name: pct for name, pct in steal.items() if pct is not None and pct > NOISY_STEAL_PERCENT}
    for name, pct in noisy.items():
        print(
            f"warning: {pct}% of the CPU was stolen by other guests during {name}: its figures are not a "
            f"reference measurement; re-run it on a quieter machine"
        )
    if failures:
        print(f"benchmarks that crashed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

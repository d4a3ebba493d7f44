"""tools/check: the house rules, checked (format, lint, types, no new Any in public signatures).

Every step runs, even after one failed, so one run shows everything; the exit status is 1 if any failed.
The tools are the dev venv's pinned ruff and mypy (tools/requirements-dev.txt); their settings are the
root pyproject.toml's [tool.ruff] and [tool.mypy], the same Pants uses (`tools/pants lint check ::`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devenv


def mypy_path_problems() -> list[str]:
    """Every distribution's src/ must be a mypy_path root, or its modules would get the wrong names."""
    config = tomllib.loads((devenv.ROOT / "pyproject.toml").read_text()).get("tool", {}).get("mypy", {})
    listed = set(config.get("mypy_path", []))
    wanted = {str(p.relative_to(devenv.ROOT)) for p in sorted(devenv.PACKAGES.glob("*/src"))}
    problems = [f"pyproject.toml [tool.mypy] mypy_path lacks {p}" for p in sorted(wanted - listed)]
    problems += [
        f"pyproject.toml [tool.mypy] mypy_path names {p}, which is not a src/"
        for p in sorted(listed - wanted)
    ]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fix", action="store_true", help="let ruff format and fix what it can first")
    args = parser.parse_args()

    venv = devenv.ensure_venv()
    bin_ = venv / "bin"
    ruff, mypy = str(bin_ / "ruff"), str(bin_ / "mypy")
    steps: list[tuple[str, list[str]]] = []
    if args.fix:
        steps += [("ruff format", [ruff, "format", "."]), ("ruff check --fix", [ruff, "check", "--fix", "."])]
    steps += [
        ("ruff format --check", [ruff, "format", "--check", "."]),
        ("ruff check", [ruff, "check", "."]),
        # No file arguments: [tool.mypy] files (every packages/*/src) and its settings (strict).
        ("mypy", [mypy]),
        ("public Any", [str(bin_ / "python"), str(devenv.ROOT / "tools" / "lib" / "public_any.py")]),
    ]

    results: list[tuple[str, bool, float]] = []
    start = time.monotonic()
    problems = mypy_path_problems()
    print("===== mypy_path =====", flush=True)
    print("\n".join(problems) if problems else "every packages/*/src is listed", flush=True)
    results.append(("mypy_path", not problems, time.monotonic() - start))
    for name, cmd in steps:
        print(f"\n===== {name} =====", flush=True)
        start = time.monotonic()
        rc = subprocess.run(cmd, cwd=devenv.ROOT).returncode
        results.append((name, rc == 0, time.monotonic() - start))

    print("\n===== summary =====")
    width = max(len(n) for n, *_ in results)
    for name, ok, elapsed in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name:<{width}}  ({elapsed:.1f}s)")
    failed = [name for name, ok, _ in results if not ok]
    if failed:
        print(f"failing checks: {', '.join(failed)}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

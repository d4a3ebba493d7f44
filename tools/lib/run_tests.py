"""tools/test: set up the dev venv, make sure Redis answers, run every suite, print a summary."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devenv
from interpreters import resolve_python

SUMMARY_RE = re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+) in [\d.]+s")


def count(summary: str, word: str) -> int:
    m = re.search(rf"(\d+) {word}", summary)
    return int(m.group(1)) if m else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/test", description=__doc__)
    parser.add_argument("--python", default=None, help="interpreter for the venv (default: this python3)")
    parser.add_argument("--slow", action="store_true", help="also run tests marked slow")
    parser.add_argument("only", nargs="*", help="distribution folders (or 'integration') to run")
    argv = sys.argv[1:]
    # everything after "--" goes to pytest untouched (argparse would read it as suite names)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    pytest_args = argv[split + 1 :]

    python = resolve_python(args.python) if args.python else sys.executable
    venv = devenv.ensure_venv(python)
    redis = devenv.ensure_redis()
    py = str(devenv.venv_python(venv))

    suites: list[tuple[str, Path]] = [(d.folder.name, d.tests) for d in devenv.distributions()]
    suites.append(("integration", devenv.ROOT / "tests_integration"))
    if args.only:
        unknown = set(args.only) - {name for name, _ in suites}
        if unknown:
            parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
        suites = [s for s in suites if s[0] in args.only]

    env = dict(os.environ)
    env.setdefault("REDIS_HOST", redis.split(":")[0])
    env.setdefault("REDIS_PORT", redis.split(":")[1])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    marker = [] if args.slow else ["-m", "not slow"]

    results: list[tuple[str, str, int, float]] = []
    for name, folder in suites:
        if not folder.is_dir() or not any(folder.rglob("test_*.py")):
            results.append((name, "no tests", 0, 0.0))
            continue
        print(f"\n===== {name} =====", flush=True)
        start = time.monotonic()
        proc = subprocess.run(
            [
                py,
                "-m",
                "pytest",
                str(folder),
                "-q",
                "-rfEs",
                "--rootdir",
                str(devenv.ROOT),
                *marker,
                *pytest_args,
            ],
            cwd=devenv.ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sys.stdout.write(proc.stdout)
        elapsed = time.monotonic() - start
        lines = [line for line in proc.stdout.splitlines() if SUMMARY_RE.search(line)]
        summary = SUMMARY_RE.search(lines[-1]).group(1) if lines else f"pytest exited {proc.returncode}"
        rc = 0 if proc.returncode in (0, 5) else proc.returncode
        results.append((name, summary, rc, elapsed))

    print("\n===== summary =====")
    width = max(len(n) for n, *_ in results)
    passed = failed = skipped = 0
    for name, summary, rc, elapsed in results:
        status = "ok  " if rc == 0 else "FAIL"
        print(f"{status} {name:<{width}}  {summary}  ({elapsed:.1f}s)")
        passed += count(summary, "passed")
        failed += count(summary, "failed") + count(summary, "error")
        skipped += count(summary, "skipped")
    bad = [n for n, _, rc, _ in results if rc != 0]
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    if bad:
        print(f"failing suites: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

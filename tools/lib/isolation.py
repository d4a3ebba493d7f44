"""tools/check-isolation: every distribution works alone, with only what it declares.

For each distribution under packages/:
1. its wheel is built once (from the dev venv, no build isolation) into build/isolation/wheels;
2. a fresh venv gets the wheel plus the wheels of its declared siblings (transitively), always from
   those local files with --no-deps, never from an index; then its declared third-party requirements
   (and theirs) from the index; `pip check` must pass;
3. every module the wheel ships is covered by a py.typed of the wheel (PEP 561) and imported there;
4. the `test` extra is added the same way (siblings from local wheels) with pytest, and the
   distribution's own tests run against the installed wheel.
Finally the README's "used by" case: rpc + matching together must not pull sqlalchemy, alembic,
sentry-sdk or redis.

One line per distribution; exit status 1 if any failed. Venvs are set up two at a time (I/O bound);
test suites run one at a time so they do not compete for the two cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devenv

WORK = devenv.ROOT / "build" / "isolation"
HEAVY = ("sqlalchemy", "alembic", "sentry-sdk", "redis")
USED_BY = ("openmodule-rpc", "openmodule-matching")
#: The test runner every suite gets; anything else its tests import must be declared by the distribution
#: (dependencies or the `test` extra; tests_integration/test_layout.py checks the imports).
TEST_RUNNER = {"pytest"}
_tests_lock = threading.Lock()


@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    seconds: float


class Failed(Exception):
    pass


def sh(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd)
    if proc.returncode != 0:
        raise Failed(f"{' '.join(map(str, cmd[:6]))} ... exited {proc.returncode}\n{proc.stdout[-4000:]}")
    return proc.stdout


def closure(names: list[str], dists: dict[str, devenv.Distribution]) -> list[devenv.Distribution]:
    """The named distributions and every sibling they depend on, transitively (runtime deps only)."""
    seen: dict[str, devenv.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in dists:
            raise Failed(f"declares {name}, which is not a folder under packages/")
        seen[name] = dists[name]
        todo.extend(dists[name].siblings)
    return list(seen.values())


def build_wheels(dev_python: str, dists: list[devenv.Distribution]) -> dict[str, Path]:
    wheels = WORK / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    sh(
        [
            dev_python,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            *[str(d.folder) for d in dists],
        ]
    )
    found: dict[str, Path] = {}
    for d in dists:
        stem = d.name.replace("-", "_")
        matches = sorted(wheels.glob(f"{stem}-{d.version}-*.whl"))
        if len(matches) != 1:
            raise Failed(f"expected one wheel for {d.name} {d.version}, found {matches}")
        found[d.name] = matches[0]
    return found


# Folders several distributions share (PEP 420): a py.typed there would be shipped twice.
NAMESPACES = ("openmodule", "openmodule/models", "openmodule/utils")


def untyped_modules(wheel: Path) -> list[str]:
    """Files of the wheel's modules that no py.typed of the wheel covers (mypy would see them as untyped)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    untyped = []
    for name in sorted(names):
        if not name.endswith(".py") or ".dist-info/" in name:
            continue
        parents = name.split("/")[:-1]
        own = ["/".join(parents[:i]) for i in range(1, len(parents) + 1)]
        if not any(f"{p}/py.typed" in names for p in own if p not in NAMESPACES):
            untyped.append(name)
    return untyped


def shipped_modules(wheel: Path) -> list[str]:
    names = zipfile.ZipFile(wheel).namelist()
    # Alembic script folders (env.py, versions/*.py) are run by alembic, not imported.
    alembic_dirs = [n[: -len("script.py.mako")] for n in names if n.endswith("/script.py.mako")]
    modules = []
    for name in names:
        if any(name.startswith(d) for d in alembic_dirs):
            continue
        if name.endswith(".py") and ".dist-info/" not in name:
            parts = name[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts[-1] != "__main__":
                modules.append(".".join(parts))
    return sorted(modules)


class Venv:
    def __init__(self, path: Path, dev_python: str) -> None:
        self.path = path
        self.dev_python = dev_python
        shutil.rmtree(path, ignore_errors=True)
        # --without-pip is fast; the dev venv's pip installs into it with --python.
        sh([sys.executable, "-m", "venv", "--without-pip", str(path)])
        self.python = str(path / "bin" / "python")

    def pip(self, *args: str) -> str:
        return sh([self.dev_python, "-m", "pip", "--python", self.python, *args])

    def install_ours(self, wheels: list[Path]) -> None:
        if wheels:
            self.pip("install", "-q", "--no-deps", *map(str, wheels))

    def install_index(self, reqs: list[str]) -> None:
        bad = [r for r in reqs if devenv.is_ours(r)]
        assert not bad, bad  # our names never go to an index
        if reqs:
            self.pip("install", "-q", *reqs)

    def installed(self) -> set[str]:
        out = self.pip("list", "--format=freeze")
        return {devenv.requirement_name(line) for line in out.splitlines() if line.strip()}


def test_runner_requirements() -> list[str]:
    """The test runner's lines of tools/requirements-dev.txt (pytest only, with the dev venv's version range).

    That is the runner environment shared by every distribution; anything else a suite needs (hypothesis,
    pydantic, pyzmq, ...) must come from the distribution's own dependencies and its `test` extra.
    """
    reqs = []
    for line in devenv.DEV_REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and devenv.requirement_name(line) in TEST_RUNNER:
            reqs.append(line)
    return reqs


def check_one(
    d: devenv.Distribution,
    dists: dict[str, devenv.Distribution],
    wheels: dict[str, Path],
    dev_python: str,
    env: dict[str, str],
    run_tests: bool,
) -> Result:
    start = time.monotonic()
    venv = Venv(WORK / "venvs" / d.folder.name, dev_python)
    runtime = closure([d.name], dists)
    venv.install_ours([wheels[x.name] for x in runtime])
    venv.install_index(sorted({r for x in runtime for r in x.third_party}))
    venv.pip("check")
    installed = venv.installed()
    extra = {n for n in installed if n.startswith(devenv.OUR_PREFIX)} - {x.name for x in runtime}
    if extra:
        raise Failed(f"undeclared siblings installed: {sorted(extra)}")
    modules = shipped_modules(wheels[d.name])
    untyped = untyped_modules(wheels[d.name])
    if untyped:
        raise Failed(f"the wheel ships modules without a py.typed in their package: {untyped}")
    # Import each module in the venv, from a neutral cwd so nothing from the tree is importable.
    script = (
        "import importlib, sys\n"
        f"mods = {modules!r}\n"
        "bad = []\n"
        "for m in mods:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except Exception as e:\n"
        "        bad.append(f'{m}: {type(e).__name__}: {e}')\n"
        "print('\\n'.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    sh([venv.python, "-I", "-c", script], env=env, cwd=WORK)
    detail = f"{len(modules)} modules import with {len(runtime) - 1} sibling(s)"
    tests = d.tests
    if run_tests and tests.is_dir() and any(tests.rglob("test_*.py")):
        test_reqs = d.optional.get("test", [])
        test_siblings = [devenv.requirement_name(r) for r in test_reqs if devenv.is_ours(r)]
        with_tests = closure([d.name, *test_siblings], dists)
        venv.install_ours([wheels[x.name] for x in with_tests if x not in runtime])
        third = {r for x in with_tests for r in x.third_party}
        third |= {r for r in test_reqs if not devenv.is_ours(r)}
        third |= set(test_runner_requirements())
        venv.install_index(sorted(third))
        venv.pip("check")
        with _tests_lock:
            out = sh(
                [
                    venv.python,
                    "-m",
                    "pytest",
                    str(tests),
                    "-q",
                    "-m",
                    "not slow",
                    "-p",
                    "no:cacheprovider",
                    "--import-mode=importlib",
                    "--rootdir",
                    str(devenv.ROOT),
                    "-c",
                    str(devenv.ROOT / "pyproject.toml"),
                ],
                env=env,
                cwd=WORK,
            )
        summary = [
            line for line in out.splitlines() if " in " in line and ("passed" in line or "skipped" in line)
        ]
        detail += "; tests: " + (summary[-1].strip("= ") if summary else "ran")
    else:
        detail += "; no tests"
    return Result(d.name, True, detail, time.monotonic() - start)


def check_used_by(
    dists: dict[str, devenv.Distribution], wheels: dict[str, Path], dev_python: str
) -> Result | None:
    present = [n for n in USED_BY if n in dists]
    if not present:
        return None
    start = time.monotonic()
    venv = Venv(WORK / "venvs" / "used-by", dev_python)
    runtime = closure(present, dists)
    venv.install_ours([wheels[x.name] for x in runtime])
    venv.install_index(sorted({r for x in runtime for r in x.third_party}))
    venv.pip("check")
    pulled = sorted(set(HEAVY) & venv.installed())
    label = "used-by " + " + ".join(present)
    if pulled:
        return Result(label, False, f"pulls {', '.join(pulled)}", time.monotonic() - start)
    return Result(label, True, f"no {', '.join(HEAVY)}", time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/check-isolation", description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="distribution folders to check (default: all)")
    parser.add_argument("--no-tests", action="store_true", help="only install and import")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="venvs set up in parallel (default 2)")
    args = parser.parse_args()

    total_start = time.monotonic()
    dev_python = str(devenv.venv_python(devenv.ensure_venv()))
    redis = devenv.ensure_redis()
    all_dists = devenv.distributions()
    dists = {d.name: d for d in all_dists}
    selected = [d for d in all_dists if not args.only or d.folder.name in args.only]
    unknown = set(args.only) - {d.folder.name for d in all_dists}
    if unknown:
        parser.error(f"unknown distribution folder(s): {', '.join(sorted(unknown))}")

    WORK.mkdir(parents=True, exist_ok=True)
    try:
        wheels = build_wheels(dev_python, all_dists)
    except Failed as e:
        print(f"FAIL building wheels: {e}")
        return 1
    print(
        f"built {len(wheels)} wheels into {WORK.relative_to(devenv.ROOT)}/wheels "
        f"({time.monotonic() - total_start:.1f}s)",
        flush=True,
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.setdefault("REDIS_HOST", redis.split(":")[0])
    env.setdefault("REDIS_PORT", redis.split(":")[1])
    env["PYTHONDONTWRITEBYTECODE"] = "1"

    def guarded(d: devenv.Distribution) -> Result:
        start = time.monotonic()
        try:
            r = check_one(d, dists, wheels, dev_python, env, not args.no_tests)
        except (Failed, ValueError, OSError) as e:
            r = Result(d.name, False, str(e), time.monotonic() - start)
        status = "ok  " if r.ok else "FAIL"
        first, _, rest = r.detail.partition("\n")
        print(f"{status} {r.name:<24} {first} ({r.seconds:.1f}s)", flush=True)
        if rest:
            print("    " + rest.replace("\n", "\n    "), flush=True)
        return r

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(guarded, selected))
    if not args.only:
        try:
            used_by = check_used_by(dists, wheels, dev_python)
        except Failed as e:
            used_by = Result("used-by", False, str(e), 0.0)
        if used_by:
            results.append(used_by)
            print(
                f"{'ok  ' if used_by.ok else 'FAIL'} {used_by.name:<24} {used_by.detail} "
                f"({used_by.seconds:.1f}s)",
                flush=True,
            )
    bad = [r.name for r in results if not r.ok]
    print(
        f"check-isolation: {len(results) - len(bad)} ok, {len(bad)} failed "
        f"({time.monotonic() - total_start:.1f}s)"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Development environment shared by tools/test, tools/demo, tools/bench and tools/check-isolation.

Stdlib only: it runs before any virtual environment exists.

Our own distributions are never resolved from a package index (the reference project publishes
``openmodule``, ``openmodule-test`` and ``openmodule-commands`` there): third-party requirements are
collected from every ``packages/*/pyproject.toml`` with our names filtered out, installed from the
index, and then our distributions are installed from this tree with ``--no-deps``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "packages"
OUR_PREFIX = "openmodule"
DEV_REQUIREMENTS = ROOT / "tools" / "requirements-dev.txt"
# Keep in step with requires-python in every packages/*/pyproject.toml.
MIN_PYTHON = (3, 11)


def log(msg: str) -> None:
    print(f"[devenv] {msg}", file=sys.stderr, flush=True)


def requirement_name(req: str) -> str:
    """The normalized project name of a PEP 508 requirement string."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    if not m:
        raise ValueError(f"cannot parse requirement {req!r}")
    return re.sub(r"[-_.]+", "-", m.group(1)).lower()


def is_ours(req: str) -> bool:
    return requirement_name(req).startswith(OUR_PREFIX)


@dataclass
class Distribution:
    folder: Path
    name: str
    version: str
    dependencies: list[str]
    optional: dict[str, list[str]] = field(default_factory=dict)

    @property
    def siblings(self) -> list[str]:
        return [requirement_name(r) for r in self.dependencies if is_ours(r)]

    @property
    def third_party(self) -> list[str]:
        return [r for r in self.dependencies if not is_ours(r)]

    @property
    def tests(self) -> Path:
        return self.folder / "tests"


def distributions() -> list[Distribution]:
    """Every distribution under packages/, in dependency order (siblings before dependents)."""
    found: dict[str, Distribution] = {}
    for pyproject in sorted(PACKAGES.glob("*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text())["project"]
        dist = Distribution(
            folder=pyproject.parent,
            name=requirement_name(data["name"]),
            version=data["version"],
            dependencies=list(data.get("dependencies", [])),
            optional=dict(data.get("optional-dependencies", {})),
        )
        found[dist.name] = dist
    ordered: list[Distribution] = []
    seen: set[str] = set()

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in stack:
            raise SystemExit(f"dependency cycle: {' -> '.join(stack + (name,))}")
        if name not in found:
            raise SystemExit(f"{stack[-1]} depends on {name}, which is not a folder under packages/")
        for dep in found[name].siblings:
            visit(dep, stack + (name,))
        seen.add(name)
        ordered.append(found[name])

    for name in found:
        visit(name, ())
    return ordered


def third_party_requirements(dists: list[Distribution], *, with_optional: bool = True) -> list[str]:
    reqs: list[str] = []
    for d in dists:
        reqs.extend(d.third_party)
        if with_optional:
            for extra in d.optional.values():
                reqs.extend(r for r in extra if not is_ours(r))
    return sorted(set(reqs))


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _fingerprint(python: str) -> str:
    h = hashlib.sha256()
    h.update(python.encode())
    h.update(DEV_REQUIREMENTS.read_bytes())
    for p in sorted(PACKAGES.glob("*/pyproject.toml")):
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def ensure_venv(python: str = sys.executable, venv: Path | None = None) -> Path:
    """Create or refresh the development venv; a no-op when nothing it depends on changed."""
    interpreter = shutil.which(python) or python
    version = subprocess.run(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if tuple(int(p) for p in version.split(".")) < MIN_PYTHON:
        raise SystemExit(
            f"{interpreter} is Python {version}; every distribution requires Python >= "
            f"{'.'.join(map(str, MIN_PYTHON))} (requires-python)"
        )
    if venv is None and os.environ.get("OPENMODULE_VENV"):
        venv = Path(os.environ["OPENMODULE_VENV"]).resolve()
    if venv is None:
        default_version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        # `--python python3.11` names the same binary as the default python3 through another link.
        same = os.path.realpath(interpreter) == os.path.realpath(sys.executable)
        venv = ROOT / (".venv" if version == default_version and same else f".venv-py{version}")
    if venv_python(venv).exists():
        # An existing venv (e.g. OPENMODULE_VENV) keeps its interpreter: never test on the wrong one silently.
        has = subprocess.run(
            [str(venv_python(venv)), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if has and has != version:
            hint = (
                "unset OPENMODULE_VENV (tools/test --python then uses .venv-py<version>) or point it elsewhere"
                if os.environ.get("OPENMODULE_VENV")
                else "remove it, or pick the interpreter with --python"
            )
            raise SystemExit(f"{venv} is a Python {has} venv, but Python {version} was asked for: {hint}")
    stamp = venv / ".openmodule-stamp"
    fingerprint = _fingerprint(version)
    if stamp.exists() and stamp.read_text() == fingerprint and venv_python(venv).exists():
        return venv
    if not venv_python(venv).exists():
        log(f"creating {venv.relative_to(ROOT)} with Python {version}")
        run([interpreter, "-m", "venv", str(venv)])
    py = str(venv_python(venv))
    dists = distributions()
    reqs = third_party_requirements(dists) + [
        line.strip()
        for line in DEV_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    log(f"installing {len(reqs)} third-party requirements")
    run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([py, "-m", "pip", "install", "-q", *reqs])
    # Remove any of our names that may be left from earlier layouts, then install from the tree.
    installed = subprocess.run(
        [py, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True
    ).stdout
    stale = [
        line.split("==")[0]
        for line in installed.splitlines()
        if requirement_name(line).startswith(OUR_PREFIX)
        and requirement_name(line) not in {d.name for d in dists}
    ]
    if stale:
        run([py, "-m", "pip", "uninstall", "-q", "-y", *stale])
    log(f"installing {len(dists)} distributions from packages/ (editable, --no-deps)")
    editable: list[str] = []
    for d in dists:
        editable += ["-e", str(d.folder)]
    install = [py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    if subprocess.run([*install, *editable], capture_output=True).returncode == 0:
        stamp.write_text(fingerprint)
        return venv
    # One broken distribution must not hide the others: install one by one and name the failures.
    failed = [
        d.name
        for d in dists
        if subprocess.run([*install, "-e", str(d.folder)], capture_output=True).returncode != 0
    ]
    if failed:
        log(
            f"could not install: {', '.join(failed)} (try: {py} -m pip install --no-deps -e packages/<folder>)"
        )
    else:
        stamp.write_text(fingerprint)
    return venv


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis() -> str:
    """Make sure a Redis server answers at REDIS_HOST:REDIS_PORT; start one on loopback if needed."""
    host = os.environ.get("REDIS_HOST", "127.0.0.1")
    if host == "localhost":
        host = "127.0.0.1"
    port = int(os.environ.get("REDIS_PORT", "6379"))
    if _answers(host, port):
        return f"{host}:{port}"
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit(
            f"no Redis server answers at {host}:{port} and redis-server is not installed.\n"
            "Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) "
            "or point REDIS_HOST/REDIS_PORT at a running server."
        )
    log(f"starting redis-server on {host}:{port}")
    run(
        [
            server,
            "--daemonize",
            "yes",
            "--bind",
            host,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/tmp",
        ]
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(host, port):
            return f"{host}:{port}"
        time.sleep(0.1)
    raise SystemExit(f"started redis-server, but it does not answer at {host}:{port}")

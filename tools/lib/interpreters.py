"""Find a Python interpreter by name, also through pyenv when the bare name is only a shim."""

from __future__ import annotations

import os
import shutil
import subprocess


def _works(cmd: str, env: dict[str, str] | None = None) -> bool:
    try:
        return subprocess.run([cmd, "-c", "pass"], env=env, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve_python(name: str) -> str:
    """An absolute path for ``name`` (``python3.12``, ``3.12`` or a path)."""
    if name[0].isdigit():
        name = f"python{name}"
    path = shutil.which(name)
    if path and _works(path):
        return path
    # pyenv installs every version but only exposes the global one: ask pyenv for the others.
    version = name.removeprefix("python")
    pyenv = shutil.which("pyenv")
    if pyenv and version:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout.split()
        for candidate in sorted(
            (v for v in listed if v == version or v.startswith(version + ".")), reverse=True
        ):
            prefix = subprocess.run(
                [pyenv, "prefix", candidate], capture_output=True, text=True
            ).stdout.strip()
            exe = os.path.join(prefix, "bin", f"python{'.'.join(candidate.split('.')[:2])}")
            if prefix and _works(exe):
                return exe
    raise SystemExit(f"no working interpreter found for {name!r} (looked on PATH and in pyenv)")

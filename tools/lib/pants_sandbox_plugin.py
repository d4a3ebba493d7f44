"""pytest plugin for `tools/pants test`: make the Pants sandbox look like the dev venv's editable install.

pants.toml loads it for every test run (`[pytest].args`: `-p pants_sandbox_plugin`); outside Pants it does
nothing. Why it exists: Pants puts our first-party code on ``sys.path`` of the pytest process only (through
``PEX_EXTRA_SYS_PATH``, relative to the sandbox). The suites also start real subprocesses
(``python -m openmodule.broker``, ``python -c ...``, service scripts) and console scripts
(``openmodule_makemigration``, ``openmodule-schema``, ...), and ``openmodule_test``'s pytest fixtures come
from its ``pytest11`` entry point. ``tools/test`` gets all of that from ``pip install -e``; here the plugin
does the same from the ``pyproject.toml`` files in the sandbox, before any test is collected:

- every source root becomes an absolute ``sys.path`` entry and is exported in ``PYTHONPATH``, so child
  interpreters (``sys.executable`` is the sandbox's venv, which has the third-party requirements) import
  the same first-party code, whatever their working directory;
- each distribution whose ``src/`` is in the sandbox gets a ``.dist-info`` (``METADATA``,
  ``entry_points.txt``, ``direct_url.json`` pointing at its folder, like an editable install) in a site
  folder on ``sys.path``/``PYTHONPATH``, so ``importlib.metadata`` and pytest's plugin autoload see it;
- each ``[project.scripts]`` entry becomes an executable in a ``bin`` folder put first on ``PATH``.

Everything is written inside the sandbox (``.pants-sandbox-install/``), which Pants deletes afterwards.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path

__all__ = ["install_sandbox"]

FOLDER = ".pants-sandbox-install"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _metadata(project: dict) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {req}" for req in project.get("dependencies", [])]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {req}; extra == "{extra}"' for req in reqs]
    return "\n".join(lines) + "\n"


def _entry_points(project: dict) -> str:
    groups = {"console_scripts": project.get("scripts", {}), **project.get("entry-points", {})}
    out = []
    for group, entries in groups.items():
        if entries:
            out.append(f"[{group}]")
            out += [f"{name} = {target}" for name, target in entries.items()]
            out.append("")
    return "\n".join(out)


def _script(python: str, target: str) -> str:
    module, _, attr = target.partition(":")
    call = attr or "main"
    return f"#!{python}\nimport sys\nfrom {module} import {call.split('.')[0]}\nsys.exit({call}())\n"


def install_sandbox(root: Path, source_roots: list[str]) -> Path:
    """Install every distribution found under ``root/packages`` whose ``src/`` is present; return the site.

    Usage: ``install_sandbox(Path.cwd(), ["packages/settings/src", "packages/settings/tests"])``.
    """
    base = root / FOLDER
    site, bindir = base / "site", base / "bin"
    site.mkdir(parents=True, exist_ok=True)
    bindir.mkdir(parents=True, exist_ok=True)

    absolute = [str((root / r).resolve()) for r in source_roots if r]
    # The relative entries pex added stop working once a test changes the working directory.
    relative = set(source_roots)
    sys.path[:] = [str((root / p).resolve()) if p in relative else p for p in sys.path]

    for pyproject in sorted(root.glob("packages/*/pyproject.toml")):
        folder = pyproject.parent
        if not any((folder / "src").rglob("*.py")):
            continue  # only the metadata file is here (read as data): its code is not part of this run
        project = tomllib.loads(pyproject.read_text())["project"]
        dist_info = site / f"{_normalize(project['name']).replace('-', '_')}-{project['version']}.dist-info"
        dist_info.mkdir(exist_ok=True)
        (dist_info / "METADATA").write_text(_metadata(project))
        (dist_info / "entry_points.txt").write_text(_entry_points(project))
        (dist_info / "INSTALLER").write_text("pants-sandbox\n")
        (dist_info / "RECORD").write_text("")
        (dist_info / "direct_url.json").write_text(
            json.dumps({"url": folder.resolve().as_uri(), "dir_info": {"editable": True}})
        )
        for name, target in project.get("scripts", {}).items():
            script = bindir / name
            script.write_text(_script(sys.executable, target))
            script.chmod(0o755)

    if str(site) not in sys.path:
        sys.path.append(str(site))
    pythonpath = [*absolute, str(site)]
    if os.environ.get("PYTHONPATH"):
        pythonpath.append(os.environ["PYTHONPATH"])
    os.environ["PYTHONPATH"] = os.pathsep.join(pythonpath)
    os.environ["PATH"] = os.pathsep.join([str(bindir), os.environ.get("PATH", os.defpath)])
    return site


def _sandbox_roots(root: Path) -> list[str]:
    """The sys.path entries pex added for the sandbox's source roots (it consumed PEX_EXTRA_SYS_PATH)."""
    found = []
    for entry in sys.path:
        path = (root / entry).resolve() if entry else None
        if path is not None and path != root and path.is_relative_to(root) and path.is_dir():
            found.append(entry)
    return found


# Runs at import, which pytest does for `-p` plugins before it loads the `pytest11` entry points: the
# dist-info written here makes it find the openmodule_test plugin the same way it does in the dev venv.
# pants.toml sets OPENMODULE_PANTS_SANDBOX for test runs ([test].extra_env_vars).
if os.environ.get("OPENMODULE_PANTS_SANDBOX"):
    install_sandbox(Path.cwd().resolve(), _sandbox_roots(Path.cwd().resolve()))

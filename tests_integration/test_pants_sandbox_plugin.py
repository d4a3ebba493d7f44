"""tools/lib/pants_sandbox_plugin.py installs the sandbox's distributions the way `pip install -e` would:
child interpreters import first-party code from any directory, console scripts run from PATH, entry points
and metadata are visible; a distribution whose code is not in the sandbox is not installed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PYPROJECT = """
[project]
name = "openmodule-demo"
version = "1.2.3"
requires-python = ">=3.11"
dependencies = ["pyyaml>=6,<7"]

[project.optional-dependencies]
test = ["openmodule-other==1.2.3"]

[project.scripts]
demo-cli = "demo_pkg.cli:main"

[project.entry-points.pytest11]
demo = "demo_pkg.plugin"
"""

PROBE = textwrap.dedent(
    """
    import importlib.metadata, json, os, shutil, subprocess, sys
    sys.path.insert(0, sys.argv[2])
    os.chdir(sys.argv[1])
    sys.path.append("packages/demo/src")  # pex adds the source roots relative to the sandbox
    from pants_sandbox_plugin import install_sandbox
    install_sandbox(__import__("pathlib").Path(sys.argv[1]), ["packages/demo/src"])
    os.chdir("/")  # what a test (or a service it starts) may do
    script = shutil.which("demo-cli")
    child = subprocess.run([script], capture_output=True, text=True)
    module = subprocess.run(
        [sys.executable, "-c", "import demo_pkg.cli as c; print(c.__file__)"], capture_output=True, text=True
    )
    try:
        importlib.metadata.distribution("openmodule-other")
        other = True
    except importlib.metadata.PackageNotFoundError:
        other = False
    dist = importlib.metadata.distribution("openmodule-demo")
    print(json.dumps({
        "script": script, "script_rc": child.returncode, "script_out": child.stdout.strip(),
        "module_out": module.stdout.strip(), "module_err": module.stderr,
        "version": dist.version, "requires": dist.requires,
        "pytest11": sorted(e.name for e in importlib.metadata.entry_points(group="pytest11")),
        "direct_url": json.loads(dist.read_text("direct_url.json"))["url"],
        "other_installed": other,
    }))
    """
)


def test_sandbox_install_serves_subprocesses_scripts_and_metadata(tmp_path: Path) -> None:
    root = tmp_path / "sandbox"
    demo = root / "packages" / "demo"
    (demo / "src" / "demo_pkg").mkdir(parents=True)
    (demo / "pyproject.toml").write_text(PYPROJECT)
    (demo / "src" / "demo_pkg" / "__init__.py").write_text("")
    (demo / "src" / "demo_pkg" / "cli.py").write_text(
        "def main():\n    print('demo', __file__)\n    return 3\n"
    )
    (demo / "src" / "demo_pkg" / "plugin.py").write_text("")
    # a distribution whose pyproject.toml is only read as data: its code is not in the sandbox
    (root / "packages" / "other").mkdir(parents=True)
    (root / "packages" / "other" / "pyproject.toml").write_text(
        PYPROJECT.replace("openmodule-demo", "openmodule-other").replace("demo-cli", "other-cli")
    )

    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), str(ROOT / "tools" / "lib")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)

    cli = str((demo / "src" / "demo_pkg" / "cli.py").resolve())
    assert got["script"] == str(root.resolve() / ".pants-sandbox-install" / "bin" / "demo-cli")
    assert (got["script_rc"], got["script_out"]) == (3, f"demo {cli}")
    assert got["module_out"] == cli, got["module_err"]
    assert got["version"] == "1.2.3"
    assert got["requires"] == ["pyyaml>=6,<7", 'openmodule-other==1.2.3; extra == "test"']
    assert "demo" in got["pytest11"]
    assert got["direct_url"] == demo.resolve().as_uri()
    assert got["other_installed"] is False

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

MODULES = [
    "openmodule.core",
    "openmodule.connection_status",
    "openmodule.sentry",
    "openmodule.logging",
    "openmodule.threading",
    "openmodule.utils.redis",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_complete(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and (inspect.isclass(v) or inspect.isfunction(v))
        and getattr(v, "__module__", "").startswith(name)
    }
    assert public <= set(module.__all__), public - set(module.__all__)
    for exported in module.__all__:
        assert hasattr(module, exported)


def test_import_core_stays_light() -> None:
    code = (
        "import sys, openmodule.core, openmodule.connection_status; "
        "print(sorted(m for m in ('sentry_sdk', 'redis', 'sqlalchemy', 'openmodule.database') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_meta_package_lists_every_runtime_sibling() -> None:
    packages = Path(__file__).resolve().parents[2]
    own = tomllib.loads((packages / "core" / "pyproject.toml").read_text())["project"]["dependencies"]
    not_runtime = {
        "openmodule-core",
        "openmodule-test",
        "openmodule-fixtures",
        "openmodule-broker",
        "openmodule-commands",
    }
    siblings = set()
    for pyproject in packages.glob("*/pyproject.toml"):
        name = tomllib.loads(pyproject.read_text())["project"]["name"]
        if name not in not_runtime:
            siblings.add(name)
    assert {f"{name}==20.0.0" for name in siblings} <= set(own)

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from openmodule.config import settings
from openmodule.utils.schema import Schema


@pytest.fixture(autouse=True)
def clean(om_clean_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts without settings, with an empty Schema, in an empty folder."""
    monkeypatch.delenv("SCHEMA_FILE", raising=False)
    work = tmp_path / "service"
    work.mkdir()
    monkeypatch.chdir(work)
    Schema.clear()
    yield
    Schema.clear()


@pytest.fixture
def testing() -> SimpleNamespace:
    """Settings of a test run (TESTING=True), installed as the global settings."""
    module = SimpleNamespace(
        TESTING=True,
        NAME="schema-test",
        RESOURCE="res",
        BROKER_SUB="tcp://127.0.0.1:1",
        BROKER_PUB="tcp://127.0.0.1:2",
    )
    settings.configure(module)
    return module


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``openmodule-schema`` console script in a subprocess."""
    # The venv's bin first (tools/test), then PATH (the Pants sandbox puts its console scripts there).
    script = shutil.which(
        "openmodule-schema",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    assert script, "console script missing: openmodule-schema"

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60, cwd=cwd)

    return run


@pytest.fixture
def write_json(tmp_path: Path) -> Callable[[str, Any], str]:
    def write(name: str, document: Any) -> str:
        path = tmp_path / name
        path.write_text(json.dumps(document))
        return str(path)

    return write

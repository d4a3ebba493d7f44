"""Code samples in docs/ and the README cannot rot.

Every ```python block must compile and every ``from openmodule... import name`` in it must resolve against
the installed distributions. Blocks preceded by ``<!-- run -->`` are executed in a fresh interpreter
(TESTING on, settings configured from environment defaults).
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("packages/*/README.md")])
BLOCK = re.compile(r"(<!-- run -->\s*\n)?```python\n(.*?)```", re.S)


def blocks() -> list[tuple[str, int, bool, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in BLOCK.finditer(text):
            line = text[: match.start(2)].count("\n") + 1
            found.append(
                (str(doc.relative_to(ROOT)), line, bool(match.group(1)), textwrap.dedent(match.group(2)))
            )
    return found


SAMPLES = blocks()
IDS = [f"{doc}:{line}" for doc, line, _run, _code in SAMPLES]


def test_there_are_samples():
    assert len(SAMPLES) > 20


@pytest.mark.parametrize(("doc", "line", "run", "code"), SAMPLES, ids=IDS)
def test_sample_compiles_and_its_imports_resolve(doc, line, run, code):
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        pytest.fail(f"{doc}:{line + (exc.lineno or 1) - 1}: sample does not compile: {exc.msg}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in ("openmodule", "openmodule_test", "openmodule_commands")
        ):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if alias.name == "*":
                    continue
                if not hasattr(module, alias.name):
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        pytest.fail(f"{doc}:{line}: `from {node.module} import {alias.name}`: no such name")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("openmodule", "openmodule_test"):
                    importlib.import_module(alias.name)


RUNNABLE = [s for s in SAMPLES if s[2]]


@pytest.mark.parametrize(
    ("doc", "line", "run", "code"), RUNNABLE, ids=[f"{d}:{ln}" for d, ln, *_ in RUNNABLE]
)
def test_runnable_sample_runs(doc, line, run, code, tmp_path):
    env = dict(os.environ, TESTING="1", NAME="om_docs_sample_1", SETTINGS_MODULE="docs_sample_settings")
    (tmp_path / "docs_sample_settings.py").write_text("")
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        # keep an inherited PYTHONPATH (the Pants sandbox puts the first-party sources there)
        env=dict(
            env, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{doc}:{line} failed:\n{result.stdout}\n{result.stderr}"

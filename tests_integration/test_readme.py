"""The README stays true: its distribution table matches packages/, its doc links exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_distribution_table_is_current():
    result = subprocess.run(
        [sys.executable, "tools/lib/readme_table.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_distribution_is_in_the_table():
    readme = (ROOT / "README.md").read_text()
    for pyproject in ROOT.glob("packages/*/pyproject.toml"):
        name = re.search(r'^name = "([^"]+)"', pyproject.read_text(), re.M).group(1)
        assert f"| {name} |" in readme, name


def test_linked_docs_exist():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert links, "the README links its docs"
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README links missing pages: {missing}"

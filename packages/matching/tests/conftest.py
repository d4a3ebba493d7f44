from __future__ import annotations

import logging
from pathlib import Path

import pytest

from openmodule.utils.matching import PlateYamlSelector


@pytest.fixture
def scheme_dir(tmp_path: Path) -> Path:
    """An empty scheme directory (``<tmp>/schemes``) with the revision file beside it (not yet written)."""
    directory = tmp_path / "schemes"
    directory.mkdir()
    return directory


@pytest.fixture
def write_scheme(scheme_dir: Path):
    """Write ``<name>`` with the given text into the scheme directory."""

    def write(name: str, text: str) -> Path:
        path = scheme_dir / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def selector(scheme_dir: Path) -> PlateYamlSelector:
    """A selector on an empty directory with every built-in scheme (LEGACY-0 and the DEFAULT ones)."""
    return PlateYamlSelector(
        scheme_dir, revision_file=scheme_dir.parent / "revision", builtin_default_schemes=True
    )


@pytest.fixture
def matching_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="openmodule.utils.matching")
    return caplog

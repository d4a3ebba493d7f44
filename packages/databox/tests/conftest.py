from __future__ import annotations

import types
from pathlib import Path

import pytest

from openmodule.config import override_context, settings


@pytest.fixture(autouse=True)
def upload_dir(om_clean_settings: None, tmp_path: Path):
    """Every test gets its own upload folder as settings.DATABOX_UPLOAD_DIR."""
    settings.configure(types.SimpleNamespace(NAME="om_databox_test_1"))
    folder = tmp_path / "upload"
    folder.mkdir()
    with override_context(DATABOX_UPLOAD_DIR=str(folder)):
        yield folder


@pytest.fixture
def make_file(tmp_path: Path):
    def make(name: str = "data.csv", content: bytes = b"hello\n", folder: Path | None = None) -> Path:
        base = folder or tmp_path / "src"
        base.mkdir(parents=True, exist_ok=True)
        path = base / name
        path.write_bytes(content)
        return path

    return make

"""A process that swaps an upload folder for a symlink to the outside, as fast as it can, never gets a file
placed outside the upload folder: the folder checks and the moves work on directory descriptors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from openmodule.utils.databox import DataboxError, upload

HERE = Path(__file__).parent
UPLOADS = 5000


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.mark.parametrize(("dst", "uploads"), [("d/", UPLOADS), ("d/sub/", 2000)])
def test_swapping_a_folder_for_a_symlink_never_leaks_a_file(
    upload_dir: Path, tmp_path: Path, dst: str, uploads: int
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sub").mkdir()
    (upload_dir / "d" / "sub").mkdir(parents=True)
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    swapper = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "swap_folder.py"),
            str(upload_dir),
            "d",
            str(outside),
            str(stop),
            str(ready),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline and swapper.poll() is None, "the swapping process did not start"
        time.sleep(0.01)
    refused = 0
    try:
        for i in range(uploads):
            src = src_dir / f"f{i}.txt"
            src.write_bytes(b"x")
            try:
                upload(src, dst)
            except DataboxError:
                refused += 1
                assert src.exists()  # refused before the file moved: it stays where it was
                src.unlink()
    finally:
        stop.touch()
        swaps = int(swapper.communicate(timeout=30)[0].strip() or 0)
    leaked = _files(outside)
    placed = _files(upload_dir)
    assert leaked == [], f"{len(leaked)} of {uploads} files outside the upload folder ({swaps} swaps)"
    assert len(placed) + refused == uploads
    assert swaps > 100  # the race really ran
    assert [p for p in placed if p.name.startswith(".")] == []  # no temporary file left behind

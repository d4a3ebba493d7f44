from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import openmodule.utils.databox as databox
from openmodule.utils.databox import (
    DataboxError,
    SourceFileError,
    UnsafeDestinationError,
    set_default_rpc_client,
    upload,
)


def visible_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def test_all_is_complete():
    public = {n for n in dir(databox) if not n.startswith("_")}
    assert public - {"annotations"} == set(databox.__all__)


def test_upload_moves_file_to_relative_destination(upload_dir, make_file):
    src = make_file("asdf.txt", b"abc\x00\xff")
    result = upload(src, "/enforcement/test/asdf.txt")
    assert result == upload_dir / "enforcement" / "test" / "asdf.txt"
    assert result.read_bytes() == b"abc\x00\xff"
    assert not src.exists()
    assert visible_files(upload_dir) == ["enforcement/test/asdf.txt"]
    assert [p.name for p in (upload_dir / "enforcement" / "test").iterdir()] == ["asdf.txt"]


def test_leading_slash_is_equivalent(upload_dir, make_file):
    upload(make_file("a.txt", b"1"), "enforcement/x.txt")
    upload(make_file("b.txt", b"2"), "/enforcement/y.txt/")  # trailing / on a name: still a folder
    assert (upload_dir / "enforcement" / "x.txt").read_bytes() == b"1"
    assert (upload_dir / "enforcement" / "y.txt" / "b.txt").read_bytes() == b"2"


def test_dst_ending_in_slash_takes_source_name(upload_dir, make_file):
    upload(make_file("bsdf.csv", b"x;y\r\n"), "exports/")
    assert (upload_dir / "exports" / "bsdf.csv").read_bytes() == b"x;y\r\n"


def test_root_destination(upload_dir, make_file):
    upload(make_file("top.bin", b"t"), "/")
    assert visible_files(upload_dir) == ["top.bin"]


def test_existing_target_is_replaced(upload_dir, make_file):
    upload(make_file("r.txt", b"old"), "r.txt")
    upload(make_file("r.txt", b"new"), "r.txt")
    assert (upload_dir / "r.txt").read_bytes() == b"new"


def test_missing_source_raises(upload_dir, tmp_path):
    with pytest.raises(SourceFileError, match="does not exist"):
        upload(tmp_path / "nope.txt", "x/")
    with pytest.raises(AssertionError):  # the reference asserted; old callers catch AssertionError
        upload(tmp_path / "nope.txt", "x/")
    assert visible_files(upload_dir) == []


def test_directory_and_symlink_sources_refused(upload_dir, tmp_path, make_file):
    (tmp_path / "adir").mkdir()
    with pytest.raises(SourceFileError, match="is a directory: src must be a file and no directory"):
        upload(tmp_path / "adir", "x/")
    real = make_file("real.txt", b"r")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with pytest.raises(SourceFileError, match="is not a regular file: src must be a file and no directory"):
        upload(link, "x/")
    assert real.read_bytes() == b"r"


@pytest.mark.parametrize(
    "dst",
    ["../evil.txt", "a/../../evil.txt", "/../evil.txt", "a/b/../c.txt", "..", "x/..", "a\x00b"],
)
def test_traversal_rejected(upload_dir, make_file, tmp_path, dst):
    src = make_file("s.txt", b"s")
    with pytest.raises(UnsafeDestinationError):
        upload(src, dst)
    assert src.read_bytes() == b"s"  # nothing moved
    assert not (tmp_path / "evil.txt").exists()
    assert visible_files(upload_dir) == []


def test_absolute_destination_stays_inside(upload_dir, make_file, tmp_path):
    # README: "/enforcement/x.txt" means "enforcement/x.txt" inside the folder, never an absolute path.
    outside = tmp_path / "outside"
    result = upload(make_file("s.txt", b"s"), str(outside / "f.txt"))
    assert result.is_relative_to(upload_dir)
    assert not outside.exists()


def test_symlink_folder_pointing_outside_rejected(upload_dir, make_file, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (upload_dir / "escape").symlink_to(outside)
    src = make_file("s.txt", b"s")
    for dst in ("escape/f.txt", "escape/", "escape/deeper/f.txt"):
        with pytest.raises(UnsafeDestinationError, match="symlink"):
            upload(src, dst)
    assert list(outside.iterdir()) == []
    assert src.exists()


def test_symlink_folder_inside_allowed(upload_dir, make_file):
    (upload_dir / "real").mkdir()
    (upload_dir / "alias").symlink_to(upload_dir / "real")
    upload(make_file("s.txt", b"s"), "alias/s.txt")
    assert (upload_dir / "real" / "s.txt").read_bytes() == b"s"


def test_target_is_directory_rejected(upload_dir, make_file):
    (upload_dir / "d").mkdir()
    src = make_file("s.txt", b"s")
    with pytest.raises(UnsafeDestinationError, match="is a directory"):
        upload(src, "d")
    assert src.exists()


def test_failed_final_rename_restores_source(upload_dir, make_file, monkeypatch):
    src = make_file("s.txt", b"keep")
    real_rename = os.rename

    def failing_rename(a, b, *, src_dir_fd=None, dst_dir_fd=None):
        # the final rename: from the temporary name to "s.txt", both relative to the target folder
        if str(b) == "s.txt" and dst_dir_fd is not None:
            raise OSError(5, "simulated I/O error")
        return real_rename(a, b, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(DataboxError, match="simulated I/O error.*the file is at"):
        upload(src, "s.txt")
    assert src.read_bytes() == b"keep"
    assert list((upload_dir).rglob("*")) == []


def _cross_device_source(tmp_path: Path) -> Path | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.stat(shm).st_dev != os.stat(tmp_path).st_dev:
        return shm
    return None


@pytest.mark.parametrize("cross_device", [False, True])
def test_reader_never_sees_partial_file(upload_dir, tmp_path, cross_device):
    """A reader polling the folder only ever sees complete files (same and cross file system)."""
    if cross_device:
        base = _cross_device_source(tmp_path)
        if base is None:
            pytest.skip("no second file system available")
        src_dir = base / f"databox-test-{os.getpid()}-{id(tmp_path)}"
    else:
        src_dir = tmp_path / "src"
    src_dir.mkdir()
    size = 4 * 1024 * 1024
    count = 12
    stop = threading.Event()
    seen: dict[str, int] = {}
    bad: list[str] = []

    def reader():
        while not stop.is_set():
            for path in upload_dir.rglob("*"):
                if path.name.startswith(".") or not path.is_file():
                    continue
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                expected = bytes([int(path.stem[1:]) % 251]) * size
                if data != expected:
                    bad.append(f"{path.name}: {len(data)} bytes")
                seen[path.name] = len(data)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(count):
            src = src_dir / f"f{i}.bin"
            src.write_bytes(bytes([i % 251]) * size)
            upload(src, "out/")
            assert not src.exists()
    finally:
        stop.set()
        thread.join(10)
        if cross_device:
            for p in src_dir.iterdir():
                p.unlink()
            src_dir.rmdir()
    assert bad == []
    assert sorted(visible_files(upload_dir)) == sorted(f"out/f{i}.bin" for i in range(count))
    assert [p for p in (upload_dir / "out").iterdir() if p.name.startswith(".")] == []  # no temp left


class RecordingClient:
    def __init__(self, fail: bool = False):
        self.calls: list[tuple] = []
        self.fail = fail

    def rpc_non_blocking(self, channel, type_, request):
        self.calls.append((channel, type_, request))
        if self.fail:
            raise RuntimeError("broker down")


def test_trigger_upload_rpc(upload_dir, make_file):
    client = RecordingClient()
    upload(make_file("a.txt"), "a/", rpc_client=client)
    assert client.calls == [("databox", "trigger_upload", None)]


def test_trigger_upload_errors_are_not_raised(upload_dir, make_file, caplog):
    client = RecordingClient(fail=True)
    upload(make_file("a.txt"), "a/", rpc_client=client)
    assert (upload_dir / "a" / "a.txt").exists()
    assert "trigger_upload" in caplog.text


def test_default_client(upload_dir, make_file):
    client = RecordingClient()
    set_default_rpc_client(client)
    try:
        upload(make_file("a.txt"), "a/")
    finally:
        set_default_rpc_client(None)
    assert client.calls == [("databox", "trigger_upload", None)]


@pytest.mark.parametrize("size", [242, 250, 255])
def test_names_up_to_the_file_system_limit_work(upload_dir, make_file, size):
    name = "n" * (size - 4) + ".csv"
    upload(make_file("s.txt", b"long"), f"exports/{name}")
    assert (upload_dir / "exports" / name).read_bytes() == b"long"
    assert os.listdir(upload_dir / "exports") == [name]


def test_multibyte_name_at_the_limit_works(upload_dir, make_file):
    name = "ä" * 125 + ".csv"  # 254 bytes in UTF-8
    upload(make_file("s.txt", b"u"), name)
    assert (upload_dir / name).read_bytes() == b"u"


def test_too_long_names_are_refused_before_moving(upload_dir, make_file):
    src = make_file("s.txt", b"s")
    with pytest.raises(UnsafeDestinationError, match="is 256 bytes long; the file system allows at most 255"):
        upload(src, "n" * 256)
    with pytest.raises(DataboxError, match="cannot be created or opened: File name too long.*still at"):
        upload(src, "d" * 300 + "/x.txt")
    assert src.read_bytes() == b"s"
    assert visible_files(upload_dir) == []


def test_relative_and_absolute_symlinks_inside_are_followed(upload_dir, make_file):
    (upload_dir / "real" / "deep").mkdir(parents=True)
    (upload_dir / "rel").symlink_to("real/deep")
    (upload_dir / "real" / "up").symlink_to("../real")
    (upload_dir / "abs").symlink_to(upload_dir / "real")
    upload(make_file("a.txt", b"a"), "rel/a.txt")
    upload(make_file("b.txt", b"b"), "real/up/deep/b.txt")
    upload(make_file("c.txt", b"c"), "abs/deep/c.txt")
    assert sorted(p.name for p in (upload_dir / "real" / "deep").iterdir()) == ["a.txt", "b.txt", "c.txt"]


def test_symlinks_that_climb_out_or_loop_are_refused(upload_dir, make_file, tmp_path):
    (tmp_path / "outside").mkdir()
    (upload_dir / "climb").symlink_to("../outside")
    (upload_dir / "loop").symlink_to("loop")
    (upload_dir / "afile").write_bytes(b"")
    src = make_file("s.txt", b"s")
    with pytest.raises(UnsafeDestinationError, match="leaves the upload folder"):
        upload(src, "climb/x.txt")
    with pytest.raises(UnsafeDestinationError, match="too many symlinks"):
        upload(src, "loop/x.txt")
    with pytest.raises(UnsafeDestinationError, match="'afile' is not a folder"):
        upload(src, "afile/x.txt")
    assert src.read_bytes() == b"s"
    assert list((tmp_path / "outside").iterdir()) == []

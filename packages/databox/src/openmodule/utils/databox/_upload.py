"""Atomic move of a file into the databox upload folder."""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import stat
import threading
from pathlib import Path, PurePosixPath
from typing import Any

from openmodule.config import settings

log = logging.getLogger("openmodule.utils.databox")

_default_client_lock = threading.Lock()
_default_client: Any = None


class DataboxError(Exception):
    """A databox upload failed; the message says what was wrong and where the file is now."""


class SourceFileError(DataboxError, AssertionError):
    """The source is missing or not a regular file.

    Also an ``AssertionError``: the reference asserted on the source, and callers may still catch that.
    """


class UnsafeDestinationError(DataboxError, ValueError):
    """``dst`` would leave the upload folder (``..``, a symlink pointing outside) or is not a file name."""


def set_default_rpc_client(client: Any) -> None:
    """Set the RPC client ``upload`` uses to trigger the databox when none is passed.

    The reference used the global core's client; this distribution sits below the core, so the core (or the
    service) hands its client over instead. ``None`` disables the trigger.

    Usage: ``set_default_rpc_client(core.rpc_client)``
    """
    global _default_client
    with _default_client_lock:
        _default_client = client


def get_default_rpc_client() -> Any:
    """The client set by ``set_default_rpc_client`` (``None`` when unset)."""
    return _default_client


def _clean_parts(dst: str) -> list[str]:
    if "\x00" in dst:
        raise UnsafeDestinationError(f"databox destination {dst!r} contains a NUL character")
    parts: list[str] = []
    for part in PurePosixPath(dst).parts:
        if part in ("/", "", "."):
            continue
        if part == "..":
            raise UnsafeDestinationError(
                f"databox destination {dst!r} contains '..': destinations must stay inside the upload folder"
            )
        parts.append(part)
    return parts


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _check_no_escape(target_dir: Path, root: Path, dst: str) -> None:
    # The deepest existing ancestor decides where missing folders would be created: if a symlink on the way
    # points outside, mkdir would create folders (and we would write the file) outside the upload folder.
    probe = target_dir
    while not os.path.lexists(probe) and probe != root:
        probe = probe.parent
    if not _inside(probe.resolve(), root):
        raise UnsafeDestinationError(
            f"databox destination {dst!r} leaves the upload folder {str(root)!r} through a symlink "
            f"({str(probe)!r} -> {str(probe.resolve())!r})"
        )


def resolve_destination(src: str | os.PathLike[str], dst: str, upload_dir: str | None = None) -> Path:
    """The final path ``upload(src, dst)`` would write, validated but without creating anything.

    Leading/trailing ``/`` of ``dst`` are stripped (``/a/x.txt`` == ``a/x.txt``); a ``dst`` ending in ``/``
    takes the file name of ``src``. Raises ``UnsafeDestinationError`` for ``..`` components or symlinks that
    lead out of the upload folder.

    Usage: ``resolve_destination("/tmp/b.csv", "exports/")  # -> /upload/exports/b.csv``
    """
    root = Path(upload_dir if upload_dir is not None else settings.DATABOX_UPLOAD_DIR).resolve()
    dst = os.fspath(dst)
    parts = _clean_parts(dst)
    if dst.endswith("/") or not parts:
        parts.append(Path(src).name)
    if not parts or not parts[-1]:
        raise UnsafeDestinationError(f"databox destination {dst!r} names no file")
    target = root.joinpath(*parts)
    _check_no_escape(target.parent, root, dst)
    return target


def _fsync_path(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_to(src: Path, tmp: Path) -> None:
    with open(src, "rb") as fin, open(tmp, "xb") as fout:
        shutil.copyfileobj(fin, fout, 1024 * 1024)
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copymode(src, tmp)


def upload(src: str | os.PathLike[str], dst: str, rpc_client: Any = None) -> Path:
    """Move ``src`` into the databox upload folder at ``dst`` atomically and trigger the databox.

    The file is moved, not copied: it is gone from ``src`` afterwards. It appears at its final name only
    when complete (hidden temporary ``.<name>.*.tmp`` in the target folder, fsync, rename). Afterwards a
    non-blocking RPC ``databox/trigger_upload`` is sent through ``rpc_client`` (default: the client set with
    ``set_default_rpc_client``); its failure is logged, never raised. Returns the final path.

    Usage::

        upload("/tmp/asdf.txt", "/enforcement/test/asdf.txt")
        upload("/tmp/bsdf.csv", "exports/")  # -> <DATABOX_UPLOAD_DIR>/exports/bsdf.csv
    """
    src_path = Path(src)
    try:
        st = os.lstat(src_path)
    except FileNotFoundError:
        raise SourceFileError(f"databox upload source {str(src_path)!r} does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise SourceFileError(
            f"databox upload source {str(src_path)!r} is {kind}: src must be a file and no directory "
            "(directories, symlinks and other special files are refused; upload each file on its own)"
        )

    target = resolve_destination(src_path, dst)
    target_dir = target.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    # Re-check after mkdir: a symlink could have been placed while the folders were created.
    root = Path(settings.DATABOX_UPLOAD_DIR).resolve()
    if not _inside(target_dir.resolve(), root):
        raise UnsafeDestinationError(f"databox destination {dst!r} leaves the upload folder {str(root)!r}")
    if target.is_dir() and not target.is_symlink():
        raise UnsafeDestinationError(f"databox destination {str(target)!r} is a directory")

    # Hidden (leading dot) so the databox ignores it; random suffix so concurrent uploads never share it.
    tmp = target_dir / f".{target.name}.{secrets.token_hex(4)}.tmp"
    moved = True
    try:
        os.rename(src_path, tmp)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        moved = False  # other file system: copy into the target folder, the source stays until the end
        try:
            _copy_to(src_path, tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    else:
        _fsync_path(tmp)

    try:
        os.rename(tmp, target)
    except OSError as exc:
        where = str(src_path)
        if moved:
            try:
                os.rename(tmp, src_path)
            except OSError:
                where = str(tmp)
        else:
            tmp.unlink(missing_ok=True)
        raise DataboxError(
            f"databox upload to {str(target)!r} failed ({exc}); the file is at {where!r}"
        ) from exc
    try:
        _fsync_path(target_dir, directory=True)
    except OSError:  # some file systems cannot fsync folders; the rename is still atomic
        log.debug("could not fsync %s", target_dir)
    if not moved:
        src_path.unlink(missing_ok=True)

    _trigger_upload(rpc_client if rpc_client is not None else _default_client)
    return target


def _trigger_upload(client: Any) -> None:
    if client is None:
        return
    try:
        client.rpc_non_blocking("databox", "trigger_upload", None)
    except Exception:
        # Since 12.1.2 the trigger is best effort: the databox also scans its folder on its own.
        log.exception("databox trigger_upload RPC could not be sent")

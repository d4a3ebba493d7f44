"""Atomic move of a file into the databox upload folder."""

from __future__ import annotations

import contextlib
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
    target = root.joinpath(*_destination_parts(src, dst))
    _check_no_escape(target.parent, root, dst)
    return target


def _destination_parts(src: str | os.PathLike[str], dst: str) -> list[str]:
    dst = os.fspath(dst)
    parts = _clean_parts(dst)
    if dst.endswith("/") or not parts:
        parts.append(Path(src).name)
    if not parts or not parts[-1]:
        raise UnsafeDestinationError(f"databox destination {dst!r} names no file")
    return parts


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# a symlink chain longer than this is refused (the kernel's own limit for path resolution is 40)
_MAX_SYMLINKS = 40
# ".<name>." + 8 hex digits + ".tmp"
_TMP_EXTRA = len(".") + len(".") + 8 + len(".tmp")


def _relative_inside(target: str, roots: tuple[str, ...]) -> list[str] | None:
    # an absolute symlink target, as components below one of the spellings of the upload folder
    normal = os.path.normpath(target)
    for root in roots:
        if normal == root:
            return []
        if normal.startswith(root.rstrip("/") + "/"):
            return [p for p in normal[len(root) :].split("/") if p]
    return None


def _open_folder(root_fd: int, roots: tuple[str, ...], parts: list[str], dst: str) -> int:
    """A descriptor of the folder ``parts`` below the upload folder, created where missing.

    Every step opens one name relative to the descriptor of the folder above with ``O_NOFOLLOW``, so
    nothing that changes in the file system between two steps can redirect the walk: a folder swapped for a
    symlink is seen as a symlink. A symlink is followed only by this walk itself, and only when its target
    stays inside the upload folder; ``..`` never climbs above it.
    """
    stack = [os.dup(root_fd)]
    pending = list(parts)
    links = 0
    try:
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if len(stack) == 1:
                    raise UnsafeDestinationError(
                        f"databox destination {dst!r} leaves the upload folder {roots[0]!r} through a symlink"
                    )
                os.close(stack.pop())
                continue
            here = stack[-1]
            try:
                os.mkdir(part, dir_fd=here)
            except FileExistsError:
                pass
            try:
                fd = os.open(part, _DIR_FLAGS, dir_fd=here)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                try:
                    target = os.readlink(part, dir_fd=here)
                except OSError:  # not a symlink (a file), or swapped again since: refuse
                    raise UnsafeDestinationError(
                        f"databox destination {dst!r}: {part!r} is not a folder"
                    ) from None
                links += 1
                if links > _MAX_SYMLINKS:
                    raise UnsafeDestinationError(f"databox destination {dst!r}: too many symlinks") from None
                if target.startswith("/"):
                    below = _relative_inside(target, roots)
                    if below is None:
                        raise UnsafeDestinationError(
                            f"databox destination {dst!r} leaves the upload folder {roots[0]!r} through a "
                            f"symlink ({part!r} -> {target!r})"
                        ) from None
                    while len(stack) > 1:
                        os.close(stack.pop())
                    pending[:0] = below
                else:
                    pending[:0] = target.split("/")
                continue
            stack.append(fd)
        return os.dup(stack[-1])
    finally:
        for fd in stack:
            os.close(fd)


def _tmp_name(name: str, name_max: int) -> str:
    # Hidden (leading dot) so the databox ignores it; random so concurrent uploads never share it; short
    # enough for the file system even when the final name uses all of its bytes.
    room = max(1, name_max - _TMP_EXTRA)
    short = name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore") or "f"
    return f".{short}.{secrets.token_hex(4)}.tmp"


def _fsync_at(name: str, dir_fd: int) -> None:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_into(src: Path, tmp: str, dir_fd: int) -> None:
    mode = stat.S_IMODE(os.stat(src).st_mode)
    with open(src, "rb") as fin:
        fd = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
            0o600,
            dir_fd=dir_fd,
        )
        with os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1024 * 1024)
            fout.flush()
            os.fchmod(fout.fileno(), mode)
            os.fsync(fout.fileno())


def upload(src: str | os.PathLike[str], dst: str, rpc_client: Any = None) -> Path:
    """Move ``src`` into the databox upload folder at ``dst`` atomically and trigger the databox.

    The file is moved, not copied: it is gone from ``src`` afterwards. It appears at its final name only
    when complete (hidden temporary ``.<name>.*.tmp`` in the target folder, fsync, rename). The target folder
    is reached through directory descriptors opened without following symlinks, so a folder swapped for a
    symlink while the upload runs cannot redirect the file out of the upload folder. Afterwards a
    non-blocking RPC ``databox/trigger_upload`` is sent through ``rpc_client`` (default: the client set with
    ``set_default_rpc_client``); its failure is logged, never raised. Returns the final path.

    Usage::

        upload("/tmp/asdf.txt", "/enforcement/test/asdf.txt")
        upload("/tmp/bsdf.csv", "exports/")  # -> <DATABOX_UPLOAD_DIR>/exports/bsdf.csv
    """
    src_path = Path(src)
    _check_source(src_path)
    configured = os.path.abspath(settings.DATABOX_UPLOAD_DIR)
    root = Path(configured).resolve()
    # the names are checked here; which folder they lead to is decided by the descriptor walk alone (a check
    # of the path before moving would be stale by the time the file moves)
    parts = _destination_parts(src_path, dst)
    target = root.joinpath(*parts)
    name = parts.pop()
    dir_fd = _open_target_folder(root, configured, parts, dst, src_path, target)
    try:
        _move_into(src_path, dir_fd, name, target)
    finally:
        os.close(dir_fd)
    _trigger_upload(rpc_client if rpc_client is not None else _default_client)
    return target


def _check_source(src_path: Path) -> None:
    """Refuse a missing source and anything but a regular file (directories, symlinks, devices)."""
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


def _open_target_folder(
    root: Path, configured: str, parts: list[str], dst: str, src_path: Path, target: Path
) -> int:
    """A descriptor of the target folder below ``root``, created as needed without following symlinks."""
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise DataboxError(f"databox upload folder {str(root)!r} cannot be opened: {exc.strerror}") from exc
    try:
        return _open_folder(root_fd, (str(root), configured), parts, dst)
    except DataboxError:
        raise
    except OSError as exc:
        raise DataboxError(
            f"databox destination folder {str(target.parent)!r} cannot be created or opened: "
            f"{exc.strerror}; the file is still at {str(src_path)!r}"
        ) from exc
    finally:
        os.close(root_fd)


def _move_into(src_path: Path, dir_fd: int, name: str, target: Path) -> None:
    """Move the file to ``name`` in the folder ``dir_fd``: staged under a hidden name, then renamed."""
    name_max = _check_target_name(dir_fd, name, target)
    tmp = _tmp_name(name, name_max)
    moved = _stage(src_path, dir_fd, tmp, target)
    try:
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as exc:
        where = str(src_path)
        if moved:
            try:
                os.rename(tmp, src_path, src_dir_fd=dir_fd)
            except OSError:
                where = str(target.parent / tmp)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
        raise DataboxError(
            f"databox upload to {str(target)!r} failed ({exc}); the file is at {where!r}"
        ) from exc
    try:
        os.fsync(dir_fd)
    except OSError:  # some file systems cannot fsync folders; the rename is still atomic
        log.debug("could not fsync %s", target.parent)
    if not moved:
        src_path.unlink(missing_ok=True)


def _check_target_name(dir_fd: int, name: str, target: Path) -> int:
    """Refuse a name the file system cannot hold and a target that is a folder; the longest name allowed."""
    name_max = os.fpathconf(dir_fd, "PC_NAME_MAX")
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > name_max:
        raise UnsafeDestinationError(
            f"databox destination file name {name[:40]!r}... is {size} bytes long; the file system allows at "
            f"most {name_max} bytes per name. Nothing was moved."
        )
    try:
        existing = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise UnsafeDestinationError(f"databox destination {str(target)!r} is a directory")
    return name_max


def _stage(src_path: Path, dir_fd: int, tmp: str, target: Path) -> bool:
    """Put the file at the hidden name ``tmp``: True if it was moved, False if copied from another file
    system (the source then stays until the final rename succeeded)."""
    try:
        os.rename(src_path, tmp, dst_dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise DataboxError(
                f"databox upload of {str(src_path)!r} to {str(target)!r} failed ({exc.strerror}); the file is "
                f"still at {str(src_path)!r}"
            ) from exc
        try:
            _copy_into(src_path, tmp, dir_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        return False
    _fsync_at(tmp, dir_fd)
    return True


def _trigger_upload(client: Any) -> None:
    if client is None:
        return
    try:
        client.rpc_non_blocking("databox", "trigger_upload", None)
    except Exception:
        # Since 12.1.2 the trigger is best effort: the databox also scans its folder on its own.
        log.exception("databox trigger_upload RPC could not be sent")

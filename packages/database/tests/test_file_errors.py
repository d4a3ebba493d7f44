"""A damaged or read-only database file gets an error that says what is wrong with the file (not "fix the
revision"), and the file is left exactly as it was."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openmodule.database import Database, DatabaseNotWritableError, InvalidDatabaseFileError

HERE = Path(__file__).parent
PAGE = 4096


def _filled(db_folder: str, alembic: str, rows: int = 2000) -> str:
    """A database at the head of ``alembic`` with ``rows`` vehicles, checkpointed into the main file."""
    db = Database(db_folder, "svc", alembic_path=alembic, main_process_migration=True)
    path = db.path
    db.shutdown()
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO vehicle (id, plate) VALUES (?, ?)", [(i, f"P{i}-{'x' * 12}") for i in range(1, rows + 1)]
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert os.path.getsize(path) > 10 * PAGE
    return path


def _damage(path: str, start: int, end: int) -> None:
    with open(path, "r+b") as f:
        f.seek(start)
        f.write(bytes((i * 7 + 3) & 0xFF for i in range(end - start)))


@pytest.mark.parametrize("main_process", [True, False])
def test_damaged_file_is_named_damaged_and_left_alone(
    make_alembic: Any, db_folder: str, sql: Callable[..., Any], file_bytes: Any, main_process: bool
) -> None:
    path = _filled(db_folder, make_alembic("r0001_initial", "r0002_note_event"))
    _damage(path, PAGE, 4 * PAGE)  # the pages after the schema page: the tables' roots
    damaged = file_bytes(path)
    with pytest.raises(InvalidDatabaseFileError) as info:
        Database(
            db_folder,
            "svc",
            alembic_path=make_alembic("r0001_initial", "r0002_note_event"),
            main_process_migration=main_process,
        )
    message = str(info.value)
    assert f"The database file {path} is damaged" in message
    assert "malformed" in message and "move it away" in message
    assert "revision" not in message
    assert file_bytes(path) == damaged


@pytest.mark.parametrize("main_process", [True, False])
def test_damaged_rows_are_found_before_a_migration(
    make_alembic: Any, db_folder: str, sql: Callable[..., Any], file_bytes: Any, main_process: bool
) -> None:
    # the schema and alembic_version read fine; only vehicle rows at the end of the file are damaged
    alembic = make_alembic("r0001_initial")
    path = _filled(db_folder, alembic, rows=3000)
    size = os.path.getsize(path)
    _damage(path, size - 3 * PAGE, size)
    damaged = file_bytes(path)
    make_alembic("r0002_note_event", path=alembic)
    with pytest.raises(InvalidDatabaseFileError, match="is damaged") as info:
        Database(db_folder, "svc", alembic_path=alembic, main_process_migration=main_process)
    assert "revision" not in str(info.value)
    assert file_bytes(path) == damaged
    assert [n for n in os.listdir(db_folder) if "backup" in n] == []  # a damaged file is not migrated


def _without_file_override() -> None:
    # root writes read-only files anyway: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding
    # set before exec, so the child obeys file modes like a service user
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder outside pytest's private temp folder (the child may have no right to traverse that)."""
    folder = Path(tempfile.mkdtemp(prefix="om-db-ro-"))
    folder.chmod(0o755)
    yield folder
    for root, dirs, _ in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    shutil.rmtree(folder)


def _open_in_child(folder: Path, alembic: str, mode: str) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            [sys.executable, str(HERE / "open_database.py"), str(folder), alembic, mode],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=_without_file_override if os.geteuid() == 0 else None,
        )
    except subprocess.SubprocessError as exc:  # root without CAP_SETPCAP cannot give up its file override
        pytest.skip(f"cannot run a process that obeys file modes here: {exc}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("what", ["file", "folder"])
@pytest.mark.parametrize("mode", ["main", "child"])
def test_read_only_database_says_so(
    make_alembic: Any, shared_folder: Path, sql: Callable[..., Any], file_bytes: Any, what: str, mode: str
) -> None:
    alembic = make_alembic("r0001_initial")
    shutil.copytree(alembic, shared_folder / "alembic")
    alembic = str(shared_folder / "alembic")
    folder = shared_folder / "sqlite"
    db = Database(str(folder), "svc", alembic_path=alembic, main_process_migration=True)
    path = db.path
    db.shutdown()
    sql(path, "PRAGMA journal_mode=DELETE")  # no -wal/-shm files left: the child must create its own
    sql(path, "INSERT INTO vehicle (id, plate) VALUES (1, 'A')")
    make_alembic("r0002_note_event", path=alembic)  # a migration is due: the file must be written
    before = file_bytes(path)
    target = Path(path) if what == "file" else folder
    target.chmod(0o444 if what == "file" else 0o555)
    try:
        result = _open_in_child(folder, alembic, mode)
    finally:
        target.chmod(0o644 if what == "file" else 0o755)
    assert result["error"] == DatabaseNotWritableError.__name__, result
    assert result["permission"] is True
    message = result["message"]
    assert f"The database file {path} cannot be opened for writing" in message
    mode_text = "mode 444" if what == "file" else "mode 555"
    assert mode_text in message and "Nothing was changed" in message
    assert "revision" not in message
    assert file_bytes(path) == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644

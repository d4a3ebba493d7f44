"""After any failed migration the database file holds exactly what its backup holds, and the error says so."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from openmodule.database import Database, MigrationError


def _fill_100(db_folder: str, alembic: str, sql: Callable[..., Any]) -> str:
    db = Database(db_folder, "svc", alembic_path=alembic, main_process_migration=True)
    path = db.path
    db.shutdown()
    for i in range(1, 101):
        sql(path, "INSERT INTO vehicle (id, plate, note) VALUES (?, ?, ?)", (i, f"P{i}", f"n{i}"))
    sql(path, "INSERT INTO event (id, vehicle_id, text) VALUES (1, 2, 'hello')")
    return path


def _content(path: str, sql: Callable[..., Any]) -> Any:
    tables = sorted(r[0] for r in sql(path, "SELECT name FROM sqlite_master WHERE type='table'"))
    return (
        tables,
        {t: sql(path, f'SELECT * FROM "{t}" ORDER BY rowid') for t in tables},
        sql(path, "PRAGMA integrity_check"),
    )


@pytest.mark.parametrize("main_process", [True, False])
def test_revision_that_commits_then_fails_is_restored(
    make_alembic: Any, db_folder: str, sql: Callable[..., Any], main_process: bool
) -> None:
    alembic = make_alembic("r0001_initial", "r0002_note_event")
    path = _fill_100(db_folder, alembic, sql)
    before = _content(path, sql)
    assert len(before[1]["vehicle"]) == 100
    make_alembic("r0003_commit_then_fail", path=alembic)

    with pytest.raises(MigrationError) as info:
        Database(db_folder, "svc", alembic_path=alembic, main_process_migration=main_process)
    message = str(info.value)
    backups = [n for n in os.listdir(db_folder) if n.endswith("_0002.sqlite3.backup")]
    assert len(backups) == 1
    assert "boom after a commit in migration 0003" in message
    assert "unchanged" not in message
    assert f"restored from the backup {os.path.join(db_folder, backups[0])}" in message
    assert "verified" in message

    assert _content(path, sql) == before  # all 100 rows, no half_done table, still at 0002
    assert _content(os.path.join(db_folder, backups[0]), sql) == before

    # the next start with the revision fixed (here: removed) opens the restored file
    os.remove(os.path.join(alembic, "alembic", "versions", "r0003_commit_then_fail.py"))
    db = Database(db_folder, "svc", alembic_path=alembic, main_process_migration=main_process)
    db.shutdown()
    assert _content(path, sql) == before


@pytest.mark.parametrize("main_process", [True, False])
def test_failed_first_migration_of_an_empty_file_leaves_it_empty(
    make_alembic: Any, db_folder: str, sql: Callable[..., Any], main_process: bool
) -> None:
    # no data, so no backup file is kept; the half-created schema is still undone
    alembic = make_alembic("r0001_initial", "r0002_note_event", "r0003_commit_then_fail")
    with pytest.raises(MigrationError, match="boom after a commit") as info:
        Database(db_folder, "svc", alembic_path=alembic, main_process_migration=main_process)
    assert "empty" in str(info.value)
    path = os.path.join(db_folder, "svc.sqlite3")
    assert _content(path, sql) == ([], {}, [("ok",)])
    assert [n for n in os.listdir(db_folder) if "backup" in n] == []

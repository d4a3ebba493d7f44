from __future__ import annotations

import os

import pytest

from openmodule.database import (
    Database,
    InvalidDatabaseFileError,
    MigrationConfigError,
    MigrationError,
    MigrationTimeoutError,
    UnknownRevisionError,
)


def _fill(db_folder, alembic, sql):
    """A database at 0002 with two vehicles and one event; returns its path."""
    db = Database(db_folder, "svc", alembic_path=alembic, main_process_migration=True)
    path = db.path
    db.shutdown()
    sql(path, "INSERT INTO vehicle (id, plate, data) VALUES (1, 'A', x'7b7d'), (2, 'B', NULL)")
    sql(path, "INSERT INTO event (id, vehicle_id, text) VALUES (1, 1, 'hello')")
    return path


def _state(path, sql):
    return (
        sql(path, "SELECT version_num FROM alembic_version"),
        sql(path, "SELECT * FROM vehicle ORDER BY id"),
        sql(path, "SELECT * FROM event ORDER BY id"),
        sorted(r[0] for r in sql(path, "SELECT name FROM sqlite_master WHERE type='table'")),
        sql(path, "PRAGMA integrity_check"),
    )


@pytest.mark.parametrize("main_process", [True, False])
def test_not_an_sqlite_file_is_left_alone(make_alembic, db_folder, file_bytes, main_process):
    os.makedirs(db_folder)
    path = os.path.join(db_folder, "svc.sqlite3")
    garbage = b"this is a text file, not a database\n" * 100
    with open(path, "wb") as f:
        f.write(garbage)
    with pytest.raises(InvalidDatabaseFileError, match="is not an SQLite database.*not modified"):
        Database(
            db_folder, "svc", alembic_path=make_alembic("r0001_initial"), main_process_migration=main_process
        )
    assert file_bytes(path) == garbage
    assert sorted(os.listdir(db_folder)) == ["svc.sqlite3"]


@pytest.mark.parametrize("main_process", [True])
def test_no_revisions(make_alembic, db_folder, main_process):
    with pytest.raises(MigrationConfigError, match="has no revisions.*openmodule_makemigration"):
        Database(db_folder, "svc", alembic_path=make_alembic(), main_process_migration=main_process)
    assert not os.path.exists(os.path.join(db_folder, "svc.sqlite3"))


def test_two_heads_keep_data(make_alembic, db_folder, sql):
    alembic = make_alembic("r0001_initial", "r0002_note_event")
    path = _fill(db_folder, alembic, sql)
    before = _state(path, sql)
    make_alembic("r0002b_second_head", path=alembic)
    with pytest.raises(MigrationConfigError, match=r"several heads \(0002, 0002b\).*[Mm]erge"):
        Database(db_folder, "svc", alembic_path=alembic)
    assert _state(path, sql) == before


@pytest.mark.parametrize("main_process", [False])
def test_unknown_revision_downgraded_service(make_alembic, db_folder, sql, main_process):
    path = _fill(db_folder, make_alembic("r0001_initial", "r0002_note_event"), sql)
    before = _state(path, sql)
    with pytest.raises(UnknownRevisionError, match="revision 0002.*downgraded"):
        Database(
            db_folder, "svc", alembic_path=make_alembic("r0001_initial"), main_process_migration=main_process
        )
    assert _state(path, sql) == before


@pytest.mark.parametrize("main_process", [True, False])
def test_failing_migration_leaves_file_as_before(make_alembic, db_folder, sql, main_process):
    alembic = make_alembic("r0001_initial", "r0002_note_event")
    path = _fill(db_folder, alembic, sql)
    before = _state(path, sql)
    make_alembic("r0003_broken", path=alembic)
    with pytest.raises(MigrationError, match="boom in migration 0003"):
        Database(db_folder, "svc", alembic_path=alembic, main_process_migration=main_process)
    assert _state(path, sql) == before
    assert before[0] == [("0002",)] and "broken" not in before[3]
    # the backup made before migrating is kept
    assert len([n for n in os.listdir(db_folder) if n.endswith("_0002.sqlite3.backup")]) == 1


def test_migration_timeout_kills_child_and_keeps_data(make_alembic, db_folder, sql):
    alembic = make_alembic("r0001_initial", "r0002_note_event")
    path = _fill(db_folder, alembic, sql)
    before = _state(path, sql)
    make_alembic("r0003_slow", path=alembic)
    with pytest.raises(MigrationTimeoutError, match="did not finish within 4"):
        Database(db_folder, "svc", alembic_path=alembic, migration_timeout=4)
    assert _state(path, sql) == before


def test_missing_alembic_folder(db_folder, tmp_path):
    with pytest.raises(AssertionError, match="does not exist"):
        Database(db_folder, "svc", alembic_path=str(tmp_path / "nowhere"))
    os.makedirs(tmp_path / "half")
    with pytest.raises(MigrationConfigError, match="alembic.ini is missing"):
        Database(db_folder, "svc", alembic_path=str(tmp_path / "half"))

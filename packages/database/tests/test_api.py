from __future__ import annotations

import inspect
import os
import subprocess
import sys
import warnings

import pytest
from sqlalchemy import select, text

import openmodule.database as database_pkg
from openmodule.database import Database
from openmodule.utils.db_helper import delete_query, update_query


def test_all_is_complete():
    public = {
        n
        for n, v in vars(database_pkg).items()
        if not n.startswith("_") and not inspect.ismodule(v) and n != "annotations"
    }
    assert set(database_pkg.__all__) == public


def test_import_does_not_load_alembic():
    code = "import sys, openmodule.database; print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_legacy_import_paths():
    from openmodule.database import migration
    from openmodule.database.database import alembic_config, migrate_database, run_env_py

    assert run_env_py is migration.run_env_py
    assert migrate_database is migration.migrate_database
    assert alembic_config is migration.alembic_config
    with pytest.raises(ImportError):
        from openmodule.database.database import nothing_here  # noqa: F401


def test_register_bases_is_deprecated(monkeypatch):
    from openmodule.database import migration

    called = []
    monkeypatch.setattr(migration, "run_env_py", lambda bases: called.append(bases))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        migration.register_bases("base")
    assert called == [["base"]]
    assert caught[0].category is DeprecationWarning


def test_plain_datetime_column_rejected():
    from sqlalchemy import Column, DateTime, Integer, MetaData, Table

    from openmodule.database.migration import check_invalid_database_column_type

    metadata = MetaData()
    Table("t", metadata, Column("id", Integer, primary_key=True), Column("when", DateTime))
    with pytest.raises(AssertionError, match="t.when uses DateTime.*TZDateTime"):
        check_invalid_database_column_type(metadata)


def test_plain_datetime_column_stops_the_migration_before_it_starts(make_alembic, db_folder, sql):
    from openmodule.database import InvalidColumnTypeError, MigrationError

    path = make_alembic("r0001_initial")
    with open(os.path.join(path, "models.py"), "a") as f:
        f.write(
            "\nfrom sqlalchemy import Column, DateTime, Integer\n\n\n"
            "class Legacy(Base):\n"
            "    __tablename__ = 'legacy'\n"
            "    id = Column(Integer, primary_key=True)\n"
            "    at = Column(DateTime)\n"
        )
    with pytest.raises(InvalidColumnTypeError) as caught:
        Database(db_folder, "svc", path)
    assert isinstance(caught.value, AssertionError) and isinstance(caught.value, MigrationError)
    assert "legacy.at uses DateTime: Do NOT use DateTime fields, use TZDateTime fields instead" in str(
        caught.value
    )
    file = os.path.join(db_folder, "svc.sqlite3")
    assert not os.path.exists(file) or sql(file, "SELECT name FROM sqlite_master WHERE name='vehicle'") == []


def test_db_helpers(make_alembic, db_folder, models):
    Vehicle = models["Vehicle"]
    db = Database(
        db_folder, "svc", make_alembic("r0001_initial", "r0002_note_event"), main_process_migration=True
    )
    with db as session:
        session.add_all([Vehicle(id=i, plate=f"P{i}") for i in range(6)])
    with db as session:
        loaded = session.get(Vehicle, 1)
        assert update_query(session, session.query(Vehicle).filter(Vehicle.id < 3), {"note": "old"}) == 3
        assert loaded.note == "old"  # expired and reloaded
        assert update_query(db, select(Vehicle).where(Vehicle.id >= 4), {"note": "new"}) == 2
        assert delete_query(session, session.query(Vehicle).filter(Vehicle.id == 0)) == 1
        assert delete_query(session, select(Vehicle).where(Vehicle.note == "new")) == 2
    with db as session:
        assert session.execute(text("SELECT id, note FROM vehicle ORDER BY id")).all() == [
            (1, "old"),
            (2, "old"),
            (3, ""),
        ]
    db.shutdown()

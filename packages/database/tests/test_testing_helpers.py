from __future__ import annotations

import os

import pytest
from sqlalchemy import select, text

from openmodule.database import create_test_database, delete_database, truncate_all_tables


def test_each_call_gives_a_clean_migrated_database(make_alembic, models):
    alembic = make_alembic("r0001_initial", "r0002_note_event")
    first = create_test_database(alembic)
    with first as session:
        session.add(models["Vehicle"](id=1, plate="A"))
    second = create_test_database(alembic)
    assert first.path != second.path
    with second as session:
        assert session.scalars(select(models["Vehicle"])).all() == []
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    for db in (first, second):
        db.shutdown()
        delete_database(db)
        assert not os.path.exists(db.path)


def test_fixed_folder_replaces_old_file_and_truncate(make_alembic, models, db_folder):
    alembic = make_alembic("r0001_initial", "r0002_note_event")
    db = create_test_database(alembic, db_folder, "svc")
    with db as session:
        session.add(models["Vehicle"](id=1, plate="A"))
        session.flush()
        session.add(models["Event"](id=1, vehicle_id=1, text="e"))
    truncate_all_tables(db)
    with db as session:
        assert session.execute(text("SELECT count(*) FROM vehicle")).scalar() == 0
        assert session.execute(text("SELECT count(*) FROM event")).scalar() == 0
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
        session.add(models["Vehicle"](id=5, plate="B"))
    with pytest.raises(AssertionError):
        delete_database(db)
    db.shutdown()
    again = create_test_database(alembic, db_folder, "svc")
    with again as session:
        assert session.execute(text("SELECT count(*) FROM vehicle")).scalar() == 0
    again.shutdown()

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from openmodule.database import Database, active_databases, database_path, get_database


def test_migrate_on_open_in_child_process(make_alembic, db_folder, sql):
    alembic = make_alembic("r0001_initial", "r0002_note_event")
    db = Database(db_folder, "svc", alembic_path=alembic)
    path = os.path.join(db_folder, "svc.sqlite3")
    assert db.path == os.path.abspath(path) == os.path.abspath(database_path(db_folder, "svc"))
    assert os.path.exists(path)
    assert sql(path, "SELECT version_num FROM alembic_version") == [("0002",)]
    tables = {r[0] for r in sql(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"alembic_version", "vehicle", "event"}
    assert db.execute_pragma("journal_mode") == [("wal",)]
    assert db.execute_pragma("foreign_keys") == [(1,)]
    assert db.execute_pragma("busy_timeout") == [(30000,)]
    assert db.execute_pragma("synchronous") == [(2,)]
    # a new file gets no backup: there was nothing to keep
    assert [n for n in os.listdir(db_folder) if n.endswith(".backup")] == []
    db.shutdown()
    assert not db.is_open()


def test_upgrade_across_revisions_keeps_data_and_backs_up(make_alembic, db_folder, sql):
    alembic = make_alembic("r0001_initial")
    db = Database(db_folder, "svc", alembic_path=alembic, main_process_migration=True)
    with db as session:
        for i in range(5):
            session.execute(
                text("INSERT INTO vehicle (id, plate, data) VALUES (:i, :p, :d)"),
                {"i": i, "p": f"G {i}", "d": b'{"n":%d}' % i},
            )
    db.shutdown()
    path = db.path
    assert sql(path, "SELECT version_num FROM alembic_version") == [("0001",)]

    make_alembic("r0002_note_event", path=alembic)  # the service update brings revision 0002
    db = Database(db_folder, "svc", alembic_path=alembic)
    assert sql(path, "SELECT version_num FROM alembic_version") == [("0002",)]
    assert sql(path, "SELECT id, plate, note, data FROM vehicle ORDER BY id") == [
        (i, f"G {i}", f"migrated G {i}", b'{"n":%d}' % i) for i in range(5)
    ]
    backups = [n for n in os.listdir(db_folder) if n.endswith(".sqlite3.backup")]
    assert len(backups) == 1 and backups[0].startswith("svc_") and backups[0].endswith("_0001.sqlite3.backup")
    backup = os.path.join(db_folder, backups[0])
    assert sql(backup, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert sql(backup, "SELECT count(*) FROM vehicle") == [(5,)]
    db.shutdown()
    # already at head: no second backup
    Database(db_folder, "svc", alembic_path=alembic, main_process_migration=True).shutdown()
    assert len([n for n in os.listdir(db_folder) if n.endswith(".backup")]) == 1


@pytest.fixture
def db(make_alembic, db_folder):
    database = Database(
        db_folder,
        "svc",
        alembic_path=make_alembic("r0001_initial", "r0002_note_event"),
        main_process_migration=True,
    )
    yield database
    if database.is_open():
        database.shutdown()


def test_commit_on_success_rollback_on_error(db, models):
    Vehicle = models["Vehicle"]
    with db as session:
        session.add(Vehicle(id=1, plate="A"))
    with pytest.raises(ValueError, match="nope"):
        with db as session:
            session.add(Vehicle(id=2, plate="B"))
            session.flush()
            raise ValueError("nope")
    with db as session:
        assert session.scalars(select(Vehicle.plate).order_by(Vehicle.id)).all() == ["A"]
    assert db.active_session is None
    with pytest.raises(AssertionError, match="Session is already closed"):
        session.add(Vehicle(id=3, plate="C"))


def test_commit_error_propagates_and_releases_lock(db, models):
    Vehicle = models["Vehicle"]
    with db as session:
        session.add(Vehicle(id=1, plate="A"))
    with pytest.raises(IntegrityError):
        with db as session:
            session.add(Vehicle(id=1, plate="duplicate"))
    done = threading.Event()

    def other():
        with db as s:
            s.add(Vehicle(id=2, plate="B"))
        done.set()

    threading.Thread(target=other).start()
    assert done.wait(10)


def test_nested_with_uses_savepoint(db, models):
    Vehicle = models["Vehicle"]
    with db as outer:
        outer.add(Vehicle(id=1, plate="outer"))
        with pytest.raises(RuntimeError):
            with db as inner:
                assert inner is outer
                inner.add(Vehicle(id=2, plate="inner-failed"))
                raise RuntimeError
        with db as inner:
            inner.add(Vehicle(id=3, plate="inner-ok"))
        assert db.active_session is outer
    with db as session:
        assert session.scalars(select(Vehicle.id).order_by(Vehicle.id)).all() == [1, 3]


def test_session_options_and_flush(db, models):
    Vehicle = models["Vehicle"]
    with db(expire_on_commit=False) as session:
        v = Vehicle(id=1, plate="A")
        session.add(v)
        db.flush()
        assert session.execute(text("SELECT count(*) FROM vehicle")).scalar() == 1
    assert v.plate == "A"  # not expired: readable after the session closed


def test_one_database_per_file(db, db_folder):
    with pytest.raises(AssertionError, match="already exists"):
        Database(db_folder, "svc", alembic_path=db.alembic_path, main_process_migration=True)
    assert get_database(db_folder, "svc") is db
    db.shutdown()
    with pytest.raises(AssertionError):
        with db:
            pass
    with pytest.raises(AssertionError, match="already closed"):
        db.shutdown()
    again = Database(db_folder, "svc", alembic_path=db.alembic_path, main_process_migration=True)
    assert again.is_open()
    again.shutdown()


def test_registry_finds_a_database_by_any_spelling_of_its_path(make_alembic, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("work")
    relative = os.path.join("work", "..", "sqlite")
    db = Database(relative, "svc", alembic_path=make_alembic("r0001_initial"), main_process_migration=True)
    for spelling in (database_path(relative, "svc"), database_path("sqlite", "svc"), db.path):
        assert spelling in active_databases
        assert spelling in active_databases.keys()
        assert active_databases[spelling] is active_databases.get(spelling) is db
    assert list(active_databases.keys()) == [db.path]  # stored once, absolute
    db.shutdown()
    for spelling in (database_path(relative, "svc"), db.path):
        assert spelling not in active_databases and spelling not in active_databases.keys()
    assert active_databases.get(db.path) is None


def test_foreign_keys_enforced(db, models):
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        with db as session:
            session.add(models["Event"](id=1, vehicle_id=99, text="x"))
    with db as session:
        session.add(models["Vehicle"](id=1, plate="A"))
        session.flush()
        session.add(models["Event"](id=1, vehicle_id=1, text="x"))
    with db as session:
        session.execute(text("DELETE FROM vehicle"))
        assert session.execute(text("SELECT count(*) FROM event")).scalar() == 0  # ON DELETE CASCADE


def test_custom_types(db, models, sql):
    Vehicle = models["Vehicle"]
    seen = dt.datetime(2024, 3, 1, 12, 30, 5, 123456)
    with db as session:
        session.add(Vehicle(id=1, plate="A", seen=seen, data={"a": [1, 2], "ü": None, "t": seen}))
        session.add(Vehicle(id=2, plate="B", data=None))
    assert sql(db.path, "SELECT data FROM vehicle WHERE id=1") == [
        ('{"a":[1,2],"ü":null,"t":"2024-03-01T12:30:05.123456"}'.encode(),)
    ]
    assert sql(db.path, "SELECT data FROM vehicle WHERE id=2") == [(None,)]
    sql(db.path, "INSERT INTO vehicle (id, plate, data) VALUES (3, 'C', '[1, \"text\"]')")  # TEXT, not BLOB
    with db as session:
        rows = {v.id: (v.seen, v.data) for v in session.scalars(select(Vehicle))}
    assert rows == {
        1: (seen, {"a": [1, 2], "ü": None, "t": "2024-03-01T12:30:05.123456"}),
        2: (None, None),
        3: (None, [1, "text"]),
    }
    aware = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    with pytest.raises(
        StatementError, match="timezone aware.*You need to convert a datetime to a naive time"
    ):
        with db as session:
            session.add(Vehicle(id=4, plate="D", seen=aware))


def test_concurrent_writers_from_threads(db, models):
    Vehicle = models["Vehicle"]
    errors: list[BaseException] = []
    threads_n, rows_n = 4, 25

    def writer(t: int) -> None:
        try:
            for i in range(rows_n):
                with db as session:
                    session.add(Vehicle(id=t * 1000 + i, plate=f"{t}-{i}"))
                with db as session:  # readers interleave with the writers
                    session.scalars(select(Vehicle).where(Vehicle.id == t * 1000 + i)).one()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    with db as session:
        ids = set(session.scalars(select(Vehicle.id)))
    assert ids == {t * 1000 + i for t in range(threads_n) for i in range(rows_n)}


CHILD_WRITER = """
import sys
from sqlalchemy import text
from openmodule.database import Database
db = Database(sys.argv[1], "svc", sys.argv[2], main_process_migration=True)
print("ready", flush=True)
for i in range(60):
    with db as session:
        session.execute(text("INSERT INTO vehicle (id, plate) VALUES (:i, 'child')"), {"i": 100000 + i})
db.shutdown()
print("done", flush=True)
"""


def test_second_process_writes_at_the_same_time(db, models, db_folder):
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_WRITER, db_folder, db.alembic_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "ready"
    Vehicle = models["Vehicle"]
    for i in range(60):
        with db as session:
            session.add(Vehicle(id=i, plate="parent"))
            session.scalars(select(Vehicle.id)).all()  # read while the other process writes
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == "done"
    with db as session:
        counts = dict(session.execute(text("SELECT plate, count(*) FROM vehicle GROUP BY plate")).all())
    assert counts == {"parent": 60, "child": 60}

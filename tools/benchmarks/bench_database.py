"""Database throughput for a small model, beside raw ``sqlite3`` doing the same on the same kind of file.

Both sides use the pragmas ``Database`` sets (WAL journal, synchronous=FULL, foreign keys on), so the gap is
the cost of SQLAlchemy's ORM, the session per ``with database`` and the database lock:
- inserts in one transaction: ORM ``session.add`` of N rows in one ``with db`` vs ``executemany`` + commit;
- inserts with one commit per row: ``with db`` per row vs ``execute`` + ``commit`` per row (fsync-bound);
- reads in one transaction: ``session.get`` by primary key (fresh identity map) vs ``SELECT ... WHERE id=?``;
- reads with one session per row: ``with db`` + ``session.get`` vs one ``SELECT`` per row.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from typing import Any

ENV_PY = """
from sqlalchemy import Column, Integer, MetaData, String, Table
from openmodule.database.migration import run_env_py

metadata = MetaData()
Table("item", metadata, Column("id", Integer, primary_key=True), Column("name", String(40)),
      Column("value", Integer))
run_env_py([metadata])
"""

REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.pre_upgrade()
    op.create_table("item", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(40)),
                    sa.Column("value", sa.Integer()))
    op.post_upgrade()


def downgrade():
    op.drop_table("item")
"""


def _alembic_folder(root: str) -> str:
    path = os.path.join(root, "database")
    os.makedirs(os.path.join(path, "alembic", "versions"))
    with open(os.path.join(path, "alembic.ini"), "w") as f:
        f.write("[alembic]\nscript_location = %(here)s/alembic\n")
    with open(os.path.join(path, "alembic", "env.py"), "w") as f:
        f.write(ENV_PY)
    with open(os.path.join(path, "alembic", "versions", "r0001.py"), "w") as f:
        f.write(REVISION)
    return path


def _raw_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name VARCHAR(40), value INTEGER)")
    return conn


def _rate(n: int, fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def run(quick: bool = False) -> list[dict[str, Any]]:
    from sqlalchemy import Column, Integer, String, insert

    from openmodule.database import Database, declarative_base

    Base = declarative_base()

    class Item(Base):
        __tablename__ = "item"
        id = Column(Integer, primary_key=True)
        name = Column(String(40))
        value = Column(Integer)

    n_bulk = 2000 if quick else 20000
    n_commit = 50 if quick else 300
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-db-") as tmp:
        db = Database(tmp, "bench", _alembic_folder(tmp), main_process_migration=True)
        raw = _raw_connect(os.path.join(tmp, "raw.sqlite3"))

        def orm_bulk() -> None:
            with db as session:
                session.add_all([Item(id=i, name=f"item {i}", value=i) for i in range(n_bulk)])

        def core_bulk() -> None:
            with db as session:
                session.execute(
                    insert(Item),
                    [{"id": i, "name": f"item {i}", "value": i} for i in range(n_bulk, 2 * n_bulk)],
                )

        def raw_bulk() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany(
                "INSERT INTO item (id, name, value) VALUES (?, ?, ?)",
                [(i, f"item {i}", i) for i in range(n_bulk)],
            )
            raw.execute("COMMIT")

        def raw_bulk2() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany(
                "INSERT INTO item (id, name, value) VALUES (?, ?, ?)",
                [(i, f"item {i}", i) for i in range(n_bulk, 2 * n_bulk)],
            )
            raw.execute("COMMIT")

        def orm_per_row() -> None:
            for i in range(2 * n_bulk, 2 * n_bulk + n_commit):
                with db as session:
                    session.add(Item(id=i, name=f"item {i}", value=i))

        def raw_per_row() -> None:
            for i in range(3 * n_bulk, 3 * n_bulk + n_commit):
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("INSERT INTO item (id, name, value) VALUES (?, ?, ?)", (i, f"item {i}", i))
                raw.execute("COMMIT")

        def orm_read() -> None:
            with db as session:
                for i in range(n_bulk):
                    assert session.get(Item, i).value == i

        def raw_read() -> None:
            raw.execute("BEGIN")
            for i in range(n_bulk):
                assert raw.execute("SELECT id, name, value FROM item WHERE id=?", (i,)).fetchone()[2] == i
            raw.execute("COMMIT")

        n_read_rows = n_commit * 4

        def orm_read_per_row() -> None:
            for i in range(n_read_rows):
                with db as session:
                    assert session.get(Item, i).value == i

        def raw_read_per_row() -> None:
            for i in range(n_read_rows):
                assert raw.execute("SELECT id, name, value FROM item WHERE id=?", (i,)).fetchone()[2] == i

        cases = [
            # ORM unit of work per object: SQLAlchemy's own cost dominates, targets only guard against regressions
            (
                "inserts, ORM session.add, one transaction",
                "inserts, executemany, one transaction",
                n_bulk,
                orm_bulk,
                raw_bulk,
                0.01,
            ),
            (
                "inserts, session.execute(insert(Item), rows), one transaction",
                "inserts, executemany, one transaction",
                n_bulk,
                core_bulk,
                raw_bulk2,
                0.10,
            ),
            # durable commits are fsync-bound; what remains is the ORM flush and session per `with database`
            (
                "inserts, one `with db` commit per row",
                "inserts, one commit per row",
                n_commit,
                orm_per_row,
                raw_per_row,
                0.20,
            ),
            (
                "reads by id, session.get, one session",
                "reads by id, SELECT, one transaction",
                n_bulk,
                orm_read,
                raw_read,
                0.005,
            ),
            (
                "reads by id, one `with db` session per row",
                "reads by id, one SELECT per row",
                n_read_rows,
                orm_read_per_row,
                raw_read_per_row,
                0.002,
            ),
        ]
        for case, base_case, n, ours, base, share in cases:
            value = _rate(n, ours)
            baseline = _rate(n, base)
            rows.append(
                {
                    "benchmark": "database",
                    "case": f"Database: {case}",
                    "value": round(value, 1),
                    "unit": "rows/s",
                    "baseline_case": f"raw sqlite3: {base_case}",
                    "baseline_value": round(baseline, 1),
                    "target": f">= {share:.1%} of baseline",
                    "met": value >= share * baseline,
                }
            )
        db.shutdown()
        raw.close()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

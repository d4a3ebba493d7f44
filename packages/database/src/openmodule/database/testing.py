"""Test support: a clean, migrated database per test (what ``SQLiteTestMixin`` / ``om_database`` wrap).

Usage::

    from openmodule.database.testing import create_test_database, delete_database

    db = create_test_database("../src/database")   # fresh file in a new temporary folder, at head
    try:
        ...
    finally:
        db.shutdown()
        delete_database(db)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable

from sqlalchemy import text

from openmodule.database._files import copy_database, database_path
from openmodule.database.database import Database

__all__ = ["create_test_database", "delete_database", "truncate_all_tables"]

_templates: dict[tuple[str, tuple[tuple[str, float], ...]], str] = {}
_templates_lock = threading.Lock()


def _versions_key(alembic_path: str) -> tuple[str, tuple[tuple[str, float], ...]]:
    versions = os.path.join(alembic_path, "alembic", "versions")
    files = []
    for root, _dirs, names in os.walk(versions):
        for n in names:
            if n.endswith(".py"):
                p = os.path.join(root, n)
                files.append((p, os.path.getmtime(p)))
    return alembic_path, tuple(sorted(files))


def _template(alembic_path: str) -> str:
    # migrating costs far more than copying: migrate once per migration folder (and revision set) per process
    key = _versions_key(alembic_path)
    with _templates_lock:
        path = _templates.get(key)
        if path and os.path.exists(path):
            return path
        folder = tempfile.mkdtemp(prefix="om-db-template-")
        db = Database(folder, "template", alembic_path, main_process_migration=True)
        db.shutdown()
        _templates[key] = path = database_path(folder, "template")
        return path


def create_test_database(
    alembic_path: str,
    database_folder: str | None = None,
    name: str = "database",
    *,
    main_process_migration: bool = True,
) -> Database:
    """A new ``Database`` at the alembic head with empty tables.

    ``database_folder`` defaults to a new temporary folder; an existing ``<name>.sqlite3`` there is replaced.
    The migrated file is copied from a per-process template, so each call is cheap. The caller shuts it
    down (and may ``delete_database`` it).
    """
    alembic_path = os.path.abspath(alembic_path)
    folder = database_folder or tempfile.mkdtemp(prefix="om-test-db-")
    os.makedirs(folder, exist_ok=True)
    path = database_path(folder, name)
    _remove_files(path)
    copy_database(_template(alembic_path), path)
    return Database(folder, name, alembic_path, main_process_migration=main_process_migration)


def truncate_all_tables(database: Database, keep: Iterable[str] = ("alembic_version",)) -> None:
    """Delete every row of every table except ``keep`` (children first, so foreign keys hold)."""
    keep = set(keep)
    with database as session:
        names = [
            r[0]
            for r in session.execute(
                text("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
            )
        ]
        session.execute(text("PRAGMA defer_foreign_keys=ON"))
        for name in names:
            if name not in keep:
                session.execute(text(f'DELETE FROM "{name}"'))


def delete_database(database: Database) -> None:
    """Delete the file of a shut-down database (with its WAL and shared-memory files)."""
    assert not database.is_open(), "shut the database down before deleting it"
    _remove_files(database.path)


def _remove_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            shutil.rmtree(path + suffix)

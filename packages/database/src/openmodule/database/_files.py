"""SQLite file level helpers shared by the main process and the migration child (stdlib only)."""

from __future__ import annotations

import logging
import os
import sqlite3
import time

log = logging.getLogger("openmodule.database")

SQLITE_HEADER = b"SQLite format 3\x00"


def database_path(db_folder: str, name: str) -> str:
    """The file of database ``name`` in ``db_folder``: ``<db_folder>/<name>.sqlite3``."""
    return os.path.join(db_folder, name) + ".sqlite3"


def check_database_file(path: str) -> None:
    """Raise ``InvalidDatabaseFileError`` if ``path`` exists and is not an SQLite database (never modifies it)."""
    from openmodule.database.errors import InvalidDatabaseFileError

    if not os.path.exists(path):
        return
    if os.path.isdir(path):
        raise InvalidDatabaseFileError(f"The database path {path} is a directory. Move it away and restart.")
    with open(path, "rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise InvalidDatabaseFileError(
            f"The file {path} is not an SQLite database (it starts with {header[:16]!r}). It was not modified: "
            "move it away (or restore a *.sqlite3.backup next to it) and restart the service."
        )


def alembic_versions(path: str) -> list[str]:
    """The revisions stored in the ``alembic_version`` table of the file (empty if none), read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchall()
        if not rows:
            return []
        return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
    finally:
        conn.close()


def integrity_ok(path: str) -> bool:
    """``PRAGMA integrity_check`` of the file says ``ok``."""
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            return conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def copy_database(src: str, dst: str) -> None:
    """Consistent copy with the SQLite backup API (safe while other connections use ``src``)."""
    source = sqlite3.connect(src, timeout=30)
    try:
        target = sqlite3.connect(dst, timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def make_backup(path: str, revisions: list[str]) -> str:
    """Copy the database to ``<name>_<YYYYmmddHHMMSS>_<revision>.sqlite3.backup`` next to it (18.x naming)."""
    base = path[: -len(".sqlite3")] if path.endswith(".sqlite3") else path
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    backup = f"{base}_{stamp}_{'-'.join(revisions) or 'none'}.sqlite3.backup"
    n = 1
    while os.path.exists(backup):  # two migrations in one second (tests): never overwrite a backup
        backup = f"{base}_{stamp}_{'-'.join(revisions) or 'none'}.{n}.sqlite3.backup"
        n += 1
    copy_database(path, backup)
    log.info("backed up database %s to %s before migrating", path, backup)
    return backup


def restore_if_changed(path: str, backup: str | None) -> bool:
    """After a failed migration: restore ``backup`` if the file is damaged or its revision moved on.

    The migration runs in one SQLite transaction, so normally the file is unchanged and nothing happens.
    Returns whether the backup was restored.
    """
    if not backup or not os.path.exists(backup):
        return False
    try:
        unchanged = integrity_ok(path) and alembic_versions(path) == alembic_versions(backup)
    except sqlite3.DatabaseError:
        unchanged = False
    if unchanged:
        return False
    log.error("database %s changed or is damaged after a failed migration: restoring %s", path, backup)
    copy_database(backup, path)
    return True

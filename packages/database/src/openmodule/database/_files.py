"""SQLite file level helpers shared by the main process and the migration child (stdlib only)."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time

from openmodule.database.errors import (
    DatabaseNotWritableError,
    InvalidDatabaseFileError,
    MigrationConfigError,
    MigrationError,
)

log = logging.getLogger("openmodule.database")

SQLITE_HEADER = b"SQLite format 3\x00"


def database_path(db_folder: str, name: str) -> str:
    """The file of database ``name`` in ``db_folder``: ``<db_folder>/<name>.sqlite3``."""
    return os.path.join(db_folder, name) + ".sqlite3"


def check_database_file(path: str) -> None:
    """Raise ``InvalidDatabaseFileError`` if ``path`` exists and is not an SQLite database (never modifies it)."""
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


def _sqlite_error(exc: BaseException | None) -> sqlite3.Error | None:
    # SQLAlchemy wraps the driver's error (``.orig``); alembic and our own code chain it (``__cause__``)
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, sqlite3.Error):
            return exc
        orig = getattr(exc, "orig", None)
        if isinstance(orig, sqlite3.Error):
            return orig
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _backups_of(path: str) -> list[str]:
    folder = os.path.dirname(path) or "."
    base = os.path.basename(path[: -len(".sqlite3")] if path.endswith(".sqlite3") else path)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(
        (
            os.path.join(folder, n)
            for n in names
            if n.startswith(base + "_") and n.endswith(".sqlite3.backup")
        ),
        reverse=True,
    )


def _access_hint(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    parts = []
    for what, target in (("file", path), ("folder", folder)):
        try:
            st = os.stat(target)
        except OSError as exc:
            parts.append(f"the {what} {target} cannot be read ({exc.strerror})")
            continue
        parts.append(f"the {what} {target} has mode {st.st_mode & 0o7777:o}, owner uid {st.st_uid}")
    return "; ".join(parts) + f"; this process runs as uid {os.geteuid()}"


def environment_error(exc: BaseException, path: str) -> MigrationError | None:
    """A ``MigrationError`` subclass saying what is wrong with the database file itself, or ``None``.

    SQLite errors that no revision can cause or fix - a damaged file, a read-only file, folder or volume, a
    full disk, a file that cannot be opened, a lock held by another process for longer than the busy
    timeout - get a message that names the problem and what to do instead of "fix the revision".
    """
    error = _sqlite_error(exc)
    if error is None:
        return None
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error)
    lowered = text.lower()
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in lowered or "not a database" in lowered:
        backups = _backups_of(path)
        restore = (
            f"copy the newest backup ({backups[0]}) over it"
            if backups
            else "restore it from a backup of the device"
        )
        return InvalidDatabaseFileError(
            f"The database file {path} is damaged (SQLite: {text}). It was not modified. Stop the service, then "
            f"{restore} or move it away to start with an empty database, and restart."
        )
    if name in ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN") or "readonly" in lowered:
        return DatabaseNotWritableError(
            f"The database file {path} cannot be opened for writing (SQLite: {text}): {_access_hint(path)}. "
            "The service needs to write the file and to create files next to it (the -wal and -shm files of "
            "the write-ahead log). Fix the owner or mode of the file and its folder, or mount the volume "
            "read-write, and restart. Nothing was changed."
        )
    if name == "SQLITE_FULL" or "disk is full" in lowered:
        return DatabaseNotWritableError(
            f"The disk holding the database file {path} is full (SQLite: {text}). Free space on it and restart."
        )
    if name.startswith("SQLITE_IOERR"):
        return MigrationError(
            f"Reading or writing the database file {path} failed with an I/O error (SQLite: {text}). Check the "
            "storage (dmesg, free space, the mount) and restart."
        )
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "database is locked" in lowered:
        return MigrationError(
            f"The database file {path} stayed locked by another connection for longer than the busy timeout "
            f"(SQLite: {text}). Stop the other process using it (another instance of this service?) and restart."
        )
    return None


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


#: the snapshot of a database that held nothing before its migration (no backup file is kept for it)
EMPTY_SNAPSHOT = ":empty:"


def content_digest(path: str) -> str:
    """SHA-256 of the schema and every row of the database (``iterdump`` order) plus its ``user_version``."""
    digest = hashlib.sha256()
    conn = sqlite3.connect(path, timeout=30)
    try:
        digest.update(f"user_version={conn.execute('PRAGMA user_version').fetchone()[0]}\n".encode())
        for line in conn.iterdump():
            digest.update(line.encode("utf-8", "surrogatepass"))
            digest.update(b"\n")
    finally:
        conn.close()
    return digest.hexdigest()


def _schema_entries(path: str) -> int:
    conn = sqlite3.connect(path, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    finally:
        conn.close()


def restore_snapshot(path: str, snapshot: str) -> tuple[bool, str]:
    """After a failed migration: put the state from before it back into ``path`` and verify it.

    ``snapshot`` is the backup file made before migrating, or ``EMPTY_SNAPSHOT`` for a file that held nothing
    (the half-created schema is removed). A migration can commit part of its work (``op.execute("COMMIT")``,
    a PRAGMA, a crash between two transactions of a hand-written revision), so the file is restored whenever a
    migration failed, not only when it looks changed. Never raises: returns whether the file now holds
    exactly the snapshot's content, and a sentence for the error message.
    """
    try:
        if snapshot == EMPTY_SNAPSHOT:
            copy_database(":memory:", path)  # a new, empty database over the file's content
            left = _schema_entries(path)
            if left:
                raise RuntimeError(f"{left} schema entries are left after emptying it")
            log.error("database %s was empty before the failed migration: emptied it again", path)
            return True, (
                "The database was empty before the migration; its half-created schema was removed "
                "(verified: empty again)."
            )
        copy_database(snapshot, path)
        if content_digest(path) != content_digest(snapshot):
            raise RuntimeError("the restored file differs from the backup")
        log.error("restored database %s from the backup %s after a failed migration", path, snapshot)
        return True, (
            f"The database was restored from the backup {snapshot} (verified: the same schema and rows as "
            "before the migration)."
        )
    except Exception as exc:
        source = "an empty database" if snapshot == EMPTY_SNAPSHOT else f"the backup {snapshot}"
        log.critical("could not restore %s from %s after a failed migration: %r", path, source, exc)
        fix = (
            "move it away"
            if snapshot == EMPTY_SNAPSHOT
            else f"stop the service and copy {snapshot} over {path} by hand"
        )
        return False, (
            f"Restoring {source} FAILED ({exc!r}): the database may hold a half-migrated state; {fix} "
            "before restarting."
        )


def check_alembic_path(alembic_path: str) -> None:
    """Raise ``MigrationConfigError`` unless ``alembic_path`` holds ``alembic.ini`` and ``alembic/``."""
    if not os.path.isdir(alembic_path):
        raise MigrationConfigError(
            f"The alembic folder {alembic_path} does not exist: pass alembic_path= or copy the template "
            "(openmodule_makemigration --init <path>)"
        )
    for part in ("alembic.ini", "alembic"):
        if not os.path.exists(os.path.join(alembic_path, part)):
            raise MigrationConfigError(
                f"{os.path.join(alembic_path, part)} is missing: the alembic folder needs alembic.ini and the "
                "script folder alembic/ (see openmodule_makemigration --init)"
            )

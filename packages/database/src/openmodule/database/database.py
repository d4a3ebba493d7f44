"""The ``Database`` class: one SQLite file per service, migrated to the alembic head when opened.

Usage::

    from openmodule.database.database import Database

    db = Database(settings.DATABASE_FOLDER, settings.NAME, alembic_path="database")
    with db as session:
        session.add(Vehicle(plate="G ARIVO1"))   # committed on exit, rolled back on an exception
    db.shutdown()
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import KeysView
from types import TracebackType
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from openmodule.database._engine import BUSY_TIMEOUT, create_sqlite_engine
from openmodule.database._files import (
    check_alembic_path,
    check_database_file,
    database_path,
    environment_error,
    restore_snapshot,
)
from openmodule.database.errors import (
    DatabaseNotWritableError,
    InvalidColumnTypeError,
    InvalidDatabaseFileError,
    MigrationConfigError,
    MigrationError,
    MigrationTimeoutError,
    UnknownRevisionError,
)

__all__ = [
    "Database",
    "active_databases",
    "database_path",
    "get_database",
    "BUSY_TIMEOUT",
    "check_alembic_path",
    "create_sqlite_engine",
]

log = logging.getLogger("openmodule.database")


class _DatabaseRegistry(dict[str, "Database"]):
    """The open databases of this process by file path. Keys are stored absolute, and every lookup normalises
    its key the same way, so ``database_path(folder, name) in active_databases`` (also on ``.keys()``) holds
    for a relative folder, while two spellings of one file can never open it twice."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and super().__contains__(os.path.abspath(path))

    def __getitem__(self, path: str) -> Database:
        return super().__getitem__(os.path.abspath(path))

    def __setitem__(self, path: str, database: Database) -> None:
        super().__setitem__(os.path.abspath(path), database)

    def __delitem__(self, path: str) -> None:
        super().__delitem__(os.path.abspath(path))

    def get(self, path: str, default: Any = None) -> Any:
        return super().get(os.path.abspath(path), default)

    def pop(self, path: str, *default: Any) -> Any:
        return super().pop(os.path.abspath(path), *default)

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        # a plain dict_keys view tests membership on the raw keys, bypassing the normalisation above
        return KeysView(self)


#: absolute database path -> the open ``Database`` of this process (one per file); lookups accept any
#: spelling of the path (``database_path(settings.DATABASE_FOLDER, settings.NAME) in active_databases``)
active_databases: dict[str, Database] = _DatabaseRegistry()
_registry_lock = threading.Lock()


class _ClosedSession(Session):
    """The class a session gets after ``with database`` closed it: any public use is a bug."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_"):
            raise AssertionError("Session is already closed")
        return object.__getattribute__(self, name)


class _SessionContext:
    def __init__(self, database: Database, kwargs: dict[str, Any]) -> None:
        self._database = database
        self._kwargs = kwargs

    def __enter__(self) -> Session:
        return self._database._enter(self._kwargs)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._database._exit(exc_type is not None)


class Database:
    """An SQLite database file ``<database_folder>/<name>.sqlite3`` migrated to the alembic head on opening.

    ``with database as session`` serializes all threads on the database lock, commits on a normal exit and
    rolls back on an exception (which propagates). A nested ``with`` in the same thread returns the same
    session inside a SAVEPOINT: an exception leaving the inner block only undoes the inner block.
    ``with database(expire_on_commit=False) as session`` passes options to the session.

    Migrations run in a child process (``migration_timeout`` seconds, default 300) that backs the file up
    first and leaves it unchanged when anything fails; ``main_process_migration=True`` migrates in this
    process instead (tests). Bad files, broken migration folders and unknown revisions raise a
    ``MigrationError`` subclass that says what to do; data is never deleted.

    Usage::

        db = Database("/data/sqlite", "om_service_1", alembic_path="database")
        with db as session:
            session.add(Row(id=1))
        db.shutdown()
    """

    def __init__(
        self,
        database_folder: str,
        name: str = "database",
        alembic_path: str | None = None,
        *,
        migration_timeout: float = 300.0,
        main_process_migration: bool = False,
    ) -> None:
        self.db_folder = database_folder
        self.name = name
        self.path = os.path.abspath(database_path(database_folder, name))
        self.alembic_path = os.path.abspath(alembic_path or os.path.join(os.getcwd(), "database"))
        self.migration_timeout = migration_timeout
        self.lock = threading.RLock()
        self._local = threading.local()
        self._open = False
        with _registry_lock:
            assert self.path not in active_databases, (
                f"Database {self.path} already exists in this process (it is open): shut the other instance down "
                "first, or use get_database() to share it"
            )
            active_databases[self.path] = self
        try:
            os.makedirs(database_folder, exist_ok=True)
            check_alembic_path(self.alembic_path)
            check_database_file(self.path)
            if main_process_migration:
                from openmodule.database.migration import upgrade_database_file

                upgrade_database_file(self.path, self.alembic_path)
            else:
                _migrate_in_child(self.path, self.alembic_path, migration_timeout)
            self.engine = create_sqlite_engine(self.path)
            try:
                with self.engine.connect() as conn:
                    fk = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
            except Exception as e:
                error = environment_error(e, self.path)
                if error is None:
                    raise
                raise error from e
            assert fk == 1, "foreign keys are not enabled on the database connection"
            self._sessionmaker = sessionmaker(bind=self.engine)
            self._open = True
        except BaseException:
            with _registry_lock:
                active_databases.pop(self.path, None)
            if hasattr(self, "engine"):
                self.engine.dispose()
            raise

    # -- sessions -------------------------------------------------------------------------------------------
    def __enter__(self) -> Session:
        return self._enter({})

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exit(exc_type is not None)

    def __call__(self, **session_kwargs: Any) -> _SessionContext:
        return _SessionContext(self, session_kwargs)

    def _stack(self) -> list[tuple[Session, Any]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _enter(self, kwargs: dict[str, Any]) -> Session:
        assert self._open, f"Database {self.path} is shut down"
        self.lock.acquire()
        try:
            stack = self._stack()
            if stack:
                outer = stack[-1][0]
                stack.append((outer, outer.begin_nested()))
                return outer
            session = self._sessionmaker(**kwargs)
            stack.append((session, None))
            return session
        except BaseException:
            self.lock.release()
            raise

    def _exit(self, error: bool) -> None:
        try:
            session, nested = self._stack().pop()
            if nested is not None:
                if error:
                    nested.rollback()
                else:
                    nested.commit()
                return
            try:
                if error:
                    session.rollback()
                else:
                    session.commit()
            finally:
                session.close()
                session.__class__ = _ClosedSession
        finally:
            self.lock.release()

    @property
    def active_session(self) -> Session | None:
        """The session of the innermost ``with database`` of the calling thread, or ``None``."""
        stack = self._stack()
        return stack[-1][0] if stack else None

    def flush(self, objects: Any = None) -> None:
        """Flush the active session of the calling thread (inside ``with database``)."""
        session = self.active_session
        assert session is not None, (
            "flush() needs an active session: call it inside `with database as session`"
        )
        session.flush(objects)

    def is_open(self) -> bool:
        return self._open

    def shutdown(self) -> None:
        """Close the database (waits for running sessions) and free its path for a new ``Database``."""
        assert self._open, f"Database {self.path} is already closed: shutdown() was called before"
        got_lock = self.lock.acquire(timeout=10)
        if not got_lock:
            log.warning("database %s: a session is still running after 10 s, shutting down anyway", self.path)
        try:
            self._open = False
            self.engine.dispose()
        finally:
            with _registry_lock:
                if active_databases.get(self.path) is self:
                    del active_databases[self.path]
            if got_lock:
                self.lock.release()

    def execute_pragma(self, pragma: str) -> Any:
        """Run ``PRAGMA <pragma>`` outside a session and return all rows (e.g. ``integrity_check``)."""
        with self.lock, self.engine.connect() as conn:
            return conn.execute(text(f"PRAGMA {pragma}")).fetchall()

    def __repr__(self) -> str:
        return f"<Database {self.path} {'open' if self._open else 'shut down'}>"


def get_database(database_folder: str, name: str, alembic_path: str | None = None, **kwargs: Any) -> Database:
    """The open ``Database`` of that file in this process, or a new one.

    Usage: ``db = get_database(settings.DATABASE_FOLDER, settings.NAME)``
    """
    with _registry_lock:
        existing = active_databases.get(os.path.abspath(database_path(database_folder, name)))
    if existing is not None:
        return existing
    return Database(database_folder, name, alembic_path, **kwargs)


_ERRORS: dict[str, type[MigrationError]] = {
    cls.__name__: cls
    for cls in (
        MigrationError,
        InvalidDatabaseFileError,
        DatabaseNotWritableError,
        MigrationConfigError,
        UnknownRevisionError,
        InvalidColumnTypeError,
    )
}


def _migrate_in_child(path: str, alembic_path: str, timeout: float) -> None:
    """Run the migration in a fresh interpreter so a crash, a hang or a leak of alembic never reaches the
    service; the child backs up the file and reports through a JSON result file."""
    with tempfile.TemporaryDirectory(prefix="om-migrate-") as tmp:
        request: dict[str, Any] = {
            "path": path,
            "alembic_path": alembic_path,
            "sys_path": [p for p in sys.path if p],
            "result": os.path.join(tmp, "result.json"),
            "backup_note": os.path.join(tmp, "backup.txt"),
        }
        req_file = os.path.join(tmp, "request.json")
        with open(req_file, "w") as f:
            json.dump(request, f)
        proc = subprocess.Popen(
            [sys.executable, "-m", "openmodule.database._migrate_child", req_file],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            restored, outcome = _restore_after_child(path, request["backup_note"])
            error: MigrationError = MigrationTimeoutError(
                f"Migrating {path} did not finish within {timeout} s; the child process was killed. {outcome} "
                f"Raise migration_timeout if the migration is legitimately slow. Output:\n{_tail(output)}"
            )
            error.restored = restored
            raise error from None
        result = json.loads(_read(request["result"]) or "null")
        if output.strip():
            log.debug("migration output:\n%s", output)
        if proc.returncode == 0 and result and result.get("status") == "ok":
            if result.get("upgraded"):
                log.info("migrated database %s from %s to %s", path, result.get("from"), result.get("to"))
            return
        if result and result.get("status") == "error":
            cls = _ERRORS.get(result.get("error", ""), MigrationError)
            message = result.get("message", "migration failed")
            restored = result.get("restored")
            if restored is False:
                # the child could not restore the file: try once more from this process
                restored, outcome = _restore_after_child(path, request["backup_note"])
                message += f"\nThe service process tried the restore again: {outcome}"
            error = cls(message)
            error.restored = restored
            raise error
        restored, outcome = _restore_after_child(path, request["backup_note"])
        error = MigrationError(
            f"Migrating {path} failed in the child process (exit status {proc.returncode}). {outcome} "
            f"Fix the revision and restart. Output:\n{_tail(output)}"
        )
        error.restored = restored
        raise error


def _restore_after_child(path: str, note: str) -> tuple[bool | None, str]:
    # the child writes the note just before the migration starts: no note, nothing was changed
    snapshot = _read(note)
    if snapshot is None:
        return None, "The migration had not started: the database is unchanged."
    return restore_snapshot(path, snapshot)


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip() or None
    except FileNotFoundError:
        return None


def _tail(output: str, lines: int = 60) -> str:
    return "\n".join((output or "").rstrip().splitlines()[-lines:])


_MIGRATION_NAMES = (
    "run_env_py",
    "register_bases",
    "migrate_database",
    "alembic_config",
    "drop_alembic_tmp_tables",
)


def __getattr__(name: str) -> Any:
    # 12.x env.py files import these from here; load alembic only when they ask (the 18.x home is .migration)
    if name in _MIGRATION_NAMES:
        from openmodule.database import migration

        return getattr(migration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

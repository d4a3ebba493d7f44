"""Alembic integration: what a service's ``env.py`` and revision files use, and the migration on start.

Usage (the service's ``database/alembic/env.py``)::

    from openmodule.database.migration import run_env_py
    from database.models import Base

    run_env_py([Base])

Importing this module imports alembic; the main process of a service does not need it (``Database`` migrates
in a child process).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import traceback
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Connection, Engine

from openmodule.config import is_development
from openmodule.database import env
from openmodule.database._engine import migration_engine
from openmodule.database._files import (
    EMPTY_SNAPSHOT,
    check_alembic_path,
    check_database_file,
    environment_error,
    make_backup,
    restore_snapshot,
)
from openmodule.database._operations import (
    PostDowngradeOp,
    PostUpgradeOp,
    PreDowngradeOp,
    PreUpgradeOp,
    drop_alembic_tmp_tables,
    process_revision_directives,
    render_item,
)
from openmodule.database.errors import (
    InvalidColumnTypeError,
    MigrationConfigError,
    MigrationError,
    UnknownRevisionError,
)

__all__ = [
    "UpgradeResult",
    "alembic_config",
    "check_invalid_database_column_type",
    "drop_alembic_tmp_tables",
    "migrate_database",
    "register_bases",
    "run_env_py",
    "upgrade_database_file",
    "PostDowngradeOp",
    "PostUpgradeOp",
    "PreDowngradeOp",
    "PreUpgradeOp",
    "process_revision_directives",
    "render_item",
]

log = logging.getLogger("openmodule.database")


# -- env.py ----------------------------------------------------------------------------------------------------
def check_invalid_database_column_type(metadata: MetaData) -> None:
    """Raise ``InvalidColumnTypeError`` (an ``AssertionError``) for a plain ``DateTime`` column (use
    ``TZDateTime``: SQLite loses time zones)."""
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, DateTime):
                raise InvalidColumnTypeError(
                    f"Column {table.name}.{column.name} uses DateTime: Do NOT use DateTime fields, use TZDateTime "
                    "fields instead (openmodule.database.custom_types.TZDateTime, naive UTC datetimes)"
                )


def _metadata_of(bases: Iterable[Any]) -> list[MetaData]:
    result = []
    for base in bases:
        metadata = base if isinstance(base, MetaData) else base.metadata
        if metadata not in result:
            result.append(metadata)
    return result


def run_env_py(bases: Sequence[Any]) -> None:
    """Run the openmodule alembic environment for the models of the given declarative bases (or MetaData).

    Usage (in ``alembic/env.py``): ``run_env_py([Base])``
    """
    metadata = _metadata_of(bases)
    if is_development():  # a bare alembic call has no settings module: the environment decides
        for m in metadata:
            check_invalid_database_column_type(m)
    env.run_migrations(metadata)


def register_bases(bases: Sequence[Any] | Any) -> None:
    """Deprecated predecessor of ``run_env_py``."""
    warnings.warn(
        "register_bases() is deprecated, call run_env_py([Base, ...]) in env.py",
        DeprecationWarning,
        stacklevel=2,
    )
    if not isinstance(bases, list | tuple):
        bases = [bases]
    run_env_py(bases)


# -- running migrations ---------------------------------------------------------------------------------------
def alembic_config(alembic_path: str | None = None, connection: Connection | Engine | None = None) -> Config:
    """The alembic ``Config`` of ``<alembic_path>/alembic.ini`` with the script folder ``<alembic_path>/alembic``
    and ``connection`` handed to env.py (``config.attributes["connection"]``)."""
    alembic_path = os.path.abspath(alembic_path or os.path.join(os.getcwd(), "database"))
    check_alembic_path(alembic_path)
    config = Config(os.path.join(alembic_path, "alembic.ini"))
    config.set_main_option("script_location", os.path.join(alembic_path, "alembic"))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate_database(connection: Connection | Engine, alembic_path: str | None = None) -> None:
    """Upgrade the database behind ``connection`` to head in this process (12.x API).

    Usage: ``migrate_database(engine, "database")``
    """
    command.upgrade(alembic_config(alembic_path, connection), "head")


def _script_heads(config: Config, alembic_path: str) -> tuple[ScriptDirectory, tuple[str, ...]]:
    versions = os.path.join(alembic_path, "alembic", "versions")
    try:
        script = ScriptDirectory.from_config(config)
        heads = tuple(script.get_heads())
    except Exception as e:
        raise MigrationConfigError(
            f"Cannot read the revisions in {versions}: {e}. Fix the revision files."
        ) from e
    if not heads:
        raise MigrationConfigError(
            f"The migration folder {versions} has no revisions: create the first one with "
            "`openmodule_makemigration -m initial` in the service folder."
        )
    if len(heads) > 1:
        raise MigrationConfigError(
            f"The migration folder {versions} has several heads ({', '.join(sorted(heads))}): two revisions "
            "share a down_revision. Merge them (`alembic merge heads` or fix down_revision), then restart."
        )
    return script, heads


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:
        return False


#: What ``upgrade_database_file`` returns (and the migration child reports as JSON): whether it migrated,
#: the revisions before and after, and the backup it made (None for a file that held nothing).
UpgradeResult = TypedDict(
    "UpgradeResult", {"upgraded": bool, "from": list[str], "to": list[str], "backup": str | None}
)


def upgrade_database_file(path: str, alembic_path: str, *, backup_note: str | None = None) -> UpgradeResult:
    """Migrate the SQLite file ``path`` to head in one transaction, backing it up first when it holds data.

    Returns ``{"upgraded": bool, "from": [...], "to": [...], "backup": path or None}`` (``UpgradeResult``).
    Raises a ``MigrationError`` subclass on bad input or failure. When a migration fails the file is restored
    from the backup (a file that held nothing is emptied again) and compared with it; the error says whether
    that worked. ``backup_note`` names a file that receives the snapshot path before the migration starts
    (the parent process restores from it when this process dies). Usage:
    ``upgrade_database_file("/data/sqlite/x.sqlite3", "database")``
    """
    alembic_path = os.path.abspath(alembic_path)
    check_database_file(path)
    config = alembic_config(alembic_path)
    script, heads = _script_heads(config, alembic_path)
    run = _Upgrade(path, alembic_path, heads)
    engine = migration_engine(path)
    try:
        with engine.connect() as conn:
            new = run.migrate(conn, config, script, backup_note)
            if new is None:
                return {"upgraded": False, "from": run.current, "to": run.current, "backup": None}
            _report_foreign_key_violations(conn, path)
    except MigrationError:
        raise
    except Exception as e:
        engine.dispose()  # no connection of ours may hold the file while it is restored
        raise run.failure(e) from e
    finally:
        engine.dispose()
    return {"upgraded": True, "from": run.current, "to": new, "backup": run.backup}


@dataclass
class _Upgrade:
    """One run of ``upgrade_database_file``: the steps inside its transaction, and what a failure restores."""

    path: str
    alembic_path: str
    heads: tuple[str, ...]
    current: list[str] = field(default_factory=list)
    backup: str | None = None
    # what a failure restores: the backup file, or EMPTY_SNAPSHOT; None until the migration starts
    snapshot: str | None = None

    def migrate(
        self, conn: Connection, config: Config, script: ScriptDirectory, backup_note: str | None
    ) -> list[str] | None:
        """Upgrade to head in one transaction; the new revisions, or None when the file is at head already."""
        trans = conn.begin()
        try:
            self.current = self._current_revisions(conn, script)
            if set(self.current) == set(self.heads):
                trans.commit()
                return None
            self._take_snapshot(conn, backup_note)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            new = sorted(MigrationContext.configure(conn).get_current_heads())
            trans.commit()
            return new
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise

    def _current_revisions(self, conn: Connection, script: ScriptDirectory) -> list[str]:
        current = sorted(MigrationContext.configure(conn).get_current_heads())
        unknown = [r for r in current if not _known(script, r)]
        if unknown:
            raise UnknownRevisionError(
                f"The database {self.path} is at revision {', '.join(unknown)}, which the migrations in "
                f"{os.path.join(self.alembic_path, 'alembic', 'versions')} do not know (was the service "
                "downgraded?). Nothing was changed. Run the service version that created it, or move "
                "the file away / restore an older *.sqlite3.backup to start from it."
            )
        return current

    def _take_snapshot(self, conn: Connection, backup_note: str | None) -> None:
        """Back a file with content up (refusing a damaged one) and note what a failure restores."""
        entries = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
        if self.current or entries:
            # a damaged file would be migrated and backed up as it is: refuse it untouched
            damage = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(5)")]
            if damage != ["ok"]:
                raise sqlite3.DatabaseError(
                    f"database disk image is malformed (quick_check: {'; '.join(map(str, damage))})"
                )
            self.backup = make_backup(self.path, self.current)
            self.snapshot = self.backup
        else:
            self.snapshot = EMPTY_SNAPSHOT
        if backup_note:
            with open(backup_note, "w") as f:
                f.write(self.snapshot)

    def failure(self, e: Exception) -> MigrationError:
        """The error for ``e`` after restoring the snapshot (call it while ``e`` is being handled)."""
        restored: bool | None = None
        outcome = ""
        if self.snapshot is not None:
            restored, outcome = restore_snapshot(self.path, self.snapshot)
        # a damaged, read-only or full file is no fault of the revision: say what is wrong with it instead
        error = environment_error(e, self.path)
        if error is not None:
            if outcome:
                error.args = (f"{error.args[0]} {outcome}",)
        else:
            if self.snapshot is None:
                outcome = "The migration had not started: the database is unchanged."
            error = MigrationError(
                f"Migrating {self.path} from revision {', '.join(self.current) or 'none'} to "
                f"{', '.join(self.heads)} failed: {e!r}. {outcome} Fix the revision and restart.\n"
                f"{traceback.format_exc()}"
            )
        error.restored = restored
        return error


def _report_foreign_key_violations(conn: Connection, path: str) -> None:
    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    violations = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    conn.commit()
    if violations:
        log.warning(
            "database %s has %d foreign key violations after migrating, e.g. %s",
            path,
            len(violations),
            violations[:3],
        )

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
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from openmodule.config import is_development
from openmodule.database._files import (
    EMPTY_SNAPSHOT,
    check_database_file,
    environment_error,
    make_backup,
    restore_snapshot,
)
from openmodule.database.custom_types import custom_types
from openmodule.database.database import BUSY_TIMEOUT, _configure_connection, check_alembic_path
from openmodule.database.errors import MigrationConfigError, MigrationError, UnknownRevisionError

__all__ = [
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


# -- custom op.* operations of revision files ---------------------------------------------------------------
def drop_alembic_tmp_tables(op: Any) -> None:
    """Drop ``_alembic_tmp_*`` tables left behind by a batch migration that crashed (pre-transaction files)."""
    conn = op.get_bind()
    names = [
        r[0]
        for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table' AND substr(name, 1, 13) = '_alembic_tmp_'"
        )
    ]
    for name in names:
        log.warning("dropping leftover table %s of a crashed migration", name)
        op.execute(f'DROP TABLE "{name}"')


class _MarkerOp(MigrateOperation):
    op_name = ""
    drops_tmp_tables = False

    def __init__(self, *args: Any) -> None:
        # 12.x generated op.pre_downgrade() but defined it with a positional argument: accept both
        self.args = args

    def reverse(self) -> MigrateOperation:
        return type(self)()


def _register_marker(name: str, drops: bool) -> type[_MarkerOp]:
    cls = type(
        f"_{name.title().replace('_', '')}Op", (_MarkerOp,), {"op_name": name, "drops_tmp_tables": drops}
    )

    def invoke(cls: type[_MarkerOp], operations: Operations, *args: Any) -> Any:
        return operations.invoke(cls(*args))

    invoke.__name__ = invoke.__qualname__ = name  # alembic's generated proxy calls op_cls.<__name__>
    setattr(cls, name, classmethod(invoke))
    Operations.register_operation(name)(cls)

    @Operations.implementation_for(cls)
    def _implementation(operations: Operations, operation: _MarkerOp) -> None:
        if operation.drops_tmp_tables:
            drop_alembic_tmp_tables(operations)
            # no effect inside a transaction (our migration engine already turned foreign keys off before
            # BEGIN); kept for migrations run on a connection without transaction
            operations.execute("PRAGMA foreign_keys=OFF")

    @renderers.dispatch_for(cls)
    def _render(autogen_context: Any, operation: _MarkerOp) -> str:
        return f"op.{name}()"

    return cls


PreUpgradeOp = _register_marker("pre_upgrade", True)
PostUpgradeOp = _register_marker("post_upgrade", False)
PreDowngradeOp = _register_marker("pre_downgrade", True)
PostDowngradeOp = _register_marker("post_downgrade", False)


# -- env.py ----------------------------------------------------------------------------------------------------
def check_invalid_database_column_type(metadata: MetaData) -> None:
    """Raise ``InvalidColumnTypeError`` (an ``AssertionError``) for a plain ``DateTime`` column (use
    ``TZDateTime``: SQLite loses time zones)."""
    from openmodule.database.errors import InvalidColumnTypeError

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
    from openmodule.database import env

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


def render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render custom column types by repr and import them from their module in autogenerated revisions."""
    if type_ == "type" and type(obj) in custom_types:
        cls = type(obj)
        autogen_context.imports.add(f"from {custom_types[cls]} import {cls.__name__}")
        return repr(obj)
    return False


def process_revision_directives(
    context: MigrationContext, revision: object, directives: list[MigrationScript]
) -> None:
    """Drop empty autogenerated revisions; wrap the others in ``op.pre_upgrade()`` ... ``op.post_upgrade()``."""
    if not directives:
        return
    script = directives[0]
    if all(ops.is_empty() for ops in script.upgrade_ops_list):
        log.info("no changes in the models: no revision created")
        directives[:] = []
        return
    for upgrade in script.upgrade_ops_list:
        upgrade.ops.insert(0, PreUpgradeOp())
        upgrade.ops.append(PostUpgradeOp())
    for downgrade in script.downgrade_ops_list:
        downgrade.ops.insert(0, PreDowngradeOp())
        downgrade.ops.append(PostDowngradeOp())


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


def _migration_engine(path: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT})
    event.listen(engine, "connect", _configure_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # foreign keys can only be switched outside a transaction; the whole upgrade is one transaction, so
        # a crash or an error at any point leaves the file as it was
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


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


def upgrade_database_file(path: str, alembic_path: str, *, backup_note: str | None = None) -> dict[str, Any]:
    """Migrate the SQLite file ``path`` to head in one transaction, backing it up first when it holds data.

    Returns ``{"upgraded": bool, "from": [...], "to": [...], "backup": path or None}``. Raises a
    ``MigrationError`` subclass on bad input or failure. When a migration fails the file is restored from the
    backup (a file that held nothing is emptied again) and compared with it; the error says whether that
    worked. ``backup_note`` names a file that receives the snapshot path before the migration starts (the
    parent process restores from it when this process dies). Usage:
    ``upgrade_database_file("/data/sqlite/x.sqlite3", "database")``
    """
    alembic_path = os.path.abspath(alembic_path)
    check_database_file(path)
    config = alembic_config(alembic_path)
    script, heads = _script_heads(config, alembic_path)
    backup: str | None = None
    # what a failure restores: the backup file, or EMPTY_SNAPSHOT; None until the migration starts
    snapshot: str | None = None
    current: list[str] = []
    engine = _migration_engine(path)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                current = sorted(MigrationContext.configure(conn).get_current_heads())
                unknown = [r for r in current if not _known(script, r)]
                if unknown:
                    raise UnknownRevisionError(
                        f"The database {path} is at revision {', '.join(unknown)}, which the migrations in "
                        f"{os.path.join(alembic_path, 'alembic', 'versions')} do not know (was the service "
                        "downgraded?). Nothing was changed. Run the service version that created it, or move "
                        "the file away / restore an older *.sqlite3.backup to start from it."
                    )
                if set(current) == set(heads):
                    trans.commit()
                    return {"upgraded": False, "from": current, "to": current, "backup": None}
                entries = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
                if current or entries:
                    # a damaged file would be migrated and backed up as it is: refuse it untouched
                    damage = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(5)")]
                    if damage != ["ok"]:
                        raise sqlite3.DatabaseError(
                            f"database disk image is malformed (quick_check: {'; '.join(map(str, damage))})"
                        )
                    backup = make_backup(path, current)
                    snapshot = backup
                else:
                    snapshot = EMPTY_SNAPSHOT
                if backup_note:
                    with open(backup_note, "w") as f:
                        f.write(snapshot)
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                new = sorted(MigrationContext.configure(conn).get_current_heads())
                trans.commit()
            except BaseException:
                if trans.is_active:
                    trans.rollback()
                raise
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
    except MigrationError:
        raise
    except Exception as e:
        engine.dispose()  # no connection of ours may hold the file while it is restored
        restored: bool | None = None
        outcome = ""
        if snapshot is not None:
            restored, outcome = restore_snapshot(path, snapshot)
        # a damaged, read-only or full file is no fault of the revision: say what is wrong with it instead
        error: MigrationError | None = environment_error(e, path)  # type: ignore[assignment]
        if error is not None:
            if outcome:
                error.args = (f"{error.args[0]} {outcome}",)
        else:
            if snapshot is None:
                outcome = "The migration had not started: the database is unchanged."
            error = MigrationError(
                f"Migrating {path} from revision {', '.join(current) or 'none'} to {', '.join(heads)} failed: "
                f"{e!r}. {outcome} Fix the revision and restart.\n{traceback.format_exc()}"
            )
        error.restored = restored
        raise error from e
    finally:
        engine.dispose()
    return {"upgraded": True, "from": current, "to": new, "backup": backup}

"""The openmodule alembic environment, run through ``run_env_py([Base])`` from a service's ``env.py``.

Usage: not called directly; ``openmodule.database.migration.run_env_py`` runs ``run_migrations``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import engine_from_config
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from openmodule.database._operations import process_revision_directives, render_item

__all__ = ["run_migrations"]


def run_migrations(target_metadata: Any) -> None:
    """Run the pending alembic command online on the connection the config carries (or the ini's URL)."""
    from alembic import context

    assert not context.is_offline_mode(), "offline migrations are not supported by openmodule"
    config = context.config
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=NullPool
        )
    if isinstance(connectable, Engine):
        with connectable.connect() as connection:
            _run(context, connection, target_metadata)
            connection.commit()
    else:
        _run(context, connectable, target_metadata)


def _run(context: Any, connection: Connection, target_metadata: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite has almost no ALTER TABLE: copy-and-move in batch mode
        render_item=render_item,
        process_revision_directives=process_revision_directives,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if not connection.in_transaction():
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")

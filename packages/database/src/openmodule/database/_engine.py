"""SQLite engines with the openmodule defaults, for the service's ``Database`` and for migrations.

The lowest module of the distribution that needs SQLAlchemy: ``database`` (the main process), ``migration``
(the migration child) and ``makemigration`` build their engines here, so none of them imports another.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, StaticPool

__all__ = ["BUSY_TIMEOUT", "configure_connection", "create_sqlite_engine", "migration_engine"]

log = logging.getLogger("openmodule.database")

#: seconds SQLite waits for a lock held by another connection before "database is locked"
BUSY_TIMEOUT = 30.0


@event.listens_for(Engine, "connect")
def _enable_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    # every SQLite connection of any engine (as in the reference): foreign keys are off by default in SQLite
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


def configure_connection(dbapi_connection: Any, connection_record: Any) -> None:
    """The ``connect`` listener of our engines: WAL, ``synchronous=FULL``, busy timeout, our own BEGIN."""
    # pysqlite's own transaction handling does not BEGIN before DDL and breaks SAVEPOINTs: turn it off and
    # emit BEGIN ourselves (see _begin), the recipe of the SQLAlchemy SQLite dialect documentation
    dbapi_connection.isolation_level = None
    mode = dbapi_connection.execute("PRAGMA journal_mode=WAL").fetchone()
    if not mode or str(mode[0]).lower() != "wal":
        log.warning("could not switch the database to WAL mode (journal_mode=%s)", mode and mode[0])
    # FULL: a commit that returned is on disk, also after a power cut, not only after a process crash
    dbapi_connection.execute("PRAGMA synchronous=FULL")
    dbapi_connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")


def _begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a deferred read->write upgrade fails at once with "database is
    # locked" when another process writes, while waiting for the write lock honours the busy timeout
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sqlite_engine(path: str) -> Engine:
    """An engine on ``path`` with the openmodule defaults: one shared connection (static pool) usable from all
    threads, WAL journal, ``synchronous=FULL``, foreign keys on, busy timeout, real transactions.

    Usage: ``engine = create_sqlite_engine("/data/sqlite/x.sqlite3")``
    """
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=StaticPool,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT},
    )
    event.listen(engine, "connect", configure_connection)
    event.listen(engine, "begin", _begin)
    return engine


def migration_engine(path: str) -> Engine:
    """An engine for migrating ``path``: a fresh connection per use, foreign keys off for the transaction.

    Usage: ``engine = migration_engine(path)`` (dispose it when done)
    """
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT})
    event.listen(engine, "connect", configure_connection)

    @event.listens_for(engine, "begin")
    def _begin_migration(conn: Connection) -> None:
        # foreign keys can only be switched outside a transaction; the whole upgrade is one transaction, so
        # a crash or an error at any point leaves the file as it was
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

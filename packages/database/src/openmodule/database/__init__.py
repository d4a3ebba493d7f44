"""openmodule.database: the SQLite database of an openmodule service.

Usage::

    from openmodule.database import Base, Database
    from openmodule.database.custom_types import TZDateTime

    db = Database(settings.DATABASE_FOLDER, settings.NAME, alembic_path="database")
    with db as session:
        session.add(MyModel(...))
    db.shutdown()

Importing this package lets 1.4-style models (plain annotations, no ``Mapped[]``, on SQLAlchemy's legacy
``declarative_base()``) map; see ``allow_legacy_annotations``.

Alembic is only imported by ``openmodule.database.migration`` (env.py files, the migration child process
and ``openmodule_makemigration``).
"""

from __future__ import annotations

from openmodule.database._base import NAMING_CONVENTION, Base, allow_legacy_annotations, declarative_base
from openmodule.database._files import database_path
from openmodule.database.custom_types import CustomType, JSONEncodedDict, TZDateTime
from openmodule.database.database import Database, active_databases, create_sqlite_engine, get_database
from openmodule.database.errors import (
    DatabaseNotWritableError,
    InvalidColumnTypeError,
    InvalidDatabaseFileError,
    MigrationConfigError,
    MigrationError,
    MigrationTimeoutError,
    UnknownRevisionError,
)
from openmodule.database.testing import create_test_database, delete_database, truncate_all_tables

# 1.4-style models (plain annotations on sqlalchemy.orm.declarative_base()) map as they did under 1.4
allow_legacy_annotations()

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "CustomType",
    "Database",
    "DatabaseNotWritableError",
    "InvalidColumnTypeError",
    "InvalidDatabaseFileError",
    "JSONEncodedDict",
    "MigrationConfigError",
    "MigrationError",
    "MigrationTimeoutError",
    "TZDateTime",
    "UnknownRevisionError",
    "active_databases",
    "allow_legacy_annotations",
    "create_sqlite_engine",
    "create_test_database",
    "database_path",
    "declarative_base",
    "delete_database",
    "get_database",
    "truncate_all_tables",
]

"""Exceptions raised when a database cannot be opened or migrated (importable without alembic).

Usage::

    from openmodule.database.errors import MigrationError
"""

from __future__ import annotations

__all__ = [
    "InvalidDatabaseFileError",
    "MigrationConfigError",
    "MigrationError",
    "MigrationTimeoutError",
    "UnknownRevisionError",
]


class MigrationError(Exception):
    """The database could not be migrated; the message says why and what to do. The database file is left
    as it was before the migration (the migration runs in one transaction; a backup is restored if needed)."""


class InvalidDatabaseFileError(MigrationError):
    """The database path holds a file that is not an SQLite database. It is never modified."""


class MigrationConfigError(MigrationError, AssertionError):
    """The alembic folder is missing or broken (no revisions, several heads). An ``AssertionError`` too,
    like the reference's checks of the alembic path."""


class UnknownRevisionError(MigrationError):
    """The database is at a revision this code does not know (typically: the service was downgraded)."""


class MigrationTimeoutError(MigrationError, TimeoutError):
    """The migration child process did not finish within ``migration_timeout`` seconds."""

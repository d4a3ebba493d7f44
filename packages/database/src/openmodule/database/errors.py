"""Exceptions raised when a database cannot be opened or migrated (importable without alembic).

Usage::

    from openmodule.database.errors import MigrationError
"""

from __future__ import annotations

__all__ = [
    "DatabaseNotWritableError",
    "InvalidColumnTypeError",
    "InvalidDatabaseFileError",
    "MigrationConfigError",
    "MigrationError",
    "MigrationTimeoutError",
    "UnknownRevisionError",
]


class MigrationError(Exception):
    """The database could not be migrated; the message says why and what to do. The database file is left
    as it was before the migration: a migration that failed after it started is undone by restoring the
    backup made before it (and comparing the file with it).

    ``restored`` is ``True`` when such a restore happened and was verified, ``False`` when it failed (the
    message says what to do by hand) and ``None`` when the migration had not started.
    """

    restored: bool | None = None


class InvalidDatabaseFileError(MigrationError):
    """The database path holds a file that is not an SQLite database, or a damaged one. It is never modified."""


class DatabaseNotWritableError(MigrationError, PermissionError):
    """The database file or its folder cannot be written (permissions, read-only volume, full disk) or
    opened; nothing was changed. A ``PermissionError`` too."""


class MigrationConfigError(MigrationError, AssertionError):
    """The alembic folder is missing or broken (no revisions, several heads). An ``AssertionError`` too,
    like the reference's checks of the alembic path."""


class InvalidColumnTypeError(MigrationError, AssertionError):
    """A model uses a column type that loses data in SQLite (a plain ``DateTime``: use ``TZDateTime``).
    Checked in DEBUG and TESTING before any revision runs, so the database is unchanged. An ``AssertionError``
    too, as in the reference."""


class UnknownRevisionError(MigrationError):
    """The database is at a revision this code does not know (typically: the service was downgraded)."""


class MigrationTimeoutError(MigrationError, TimeoutError):
    """The migration child process did not finish within ``migration_timeout`` seconds."""

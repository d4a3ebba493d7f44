"""``SQLiteTestMixin``: a clean, migrated database for each test."""

from __future__ import annotations

import glob
import os
import tempfile
import unittest
from typing import Any, ClassVar

from openmodule.config import settings
from openmodule.database import Database, create_test_database, delete_database, truncate_all_tables

__all__ = ["SQLiteTestMixin", "delete_database", "truncate_all_tables"]

_cleaned_folders: set[str] = set()


class SQLiteTestMixin(unittest.TestCase):
    """Creates the service database once per class (migrated to head) and empties every table after each test.

    Usage::

        class MyTest(SQLiteTestMixin):
            alembic_path = "../src/database"
            def test_it(self):
                with self.database as session: ...
    """

    create_database: ClassVar[bool] = True
    database: ClassVar[Database | None] = None
    database_folder: ClassVar[str | None] = None
    alembic_path: ClassVar[str] = "../src/database"
    database_name: ClassVar[str] = "database"

    @classmethod
    def get_database_folder(cls) -> str:
        """The folder of this class's test databases: ``database_folder`` or ``settings.DATABASE_FOLDER``.

        Usage: ``Database(self.get_database_folder(), "other", alembic_path=self.alembic_path)``
        """
        return cls.database_folder or settings.DATABASE_FOLDER

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if not cls.create_database:
            return
        folder = cls.get_database_folder()
        os.makedirs(folder, exist_ok=True)
        folder = os.path.abspath(folder)
        if folder not in _cleaned_folders:  # once per process: leftovers of an earlier, killed run
            _cleaned_folders.add(folder)
            for path in glob.glob(os.path.join(folder, "*.sqlite3")):
                os.remove(path)
        cls.database = create_test_database(cls.alembic_path, folder, cls.database_name)

    def tearDown(self) -> None:
        if self.database is not None:
            folder = os.path.abspath(self.database.db_folder)
            assert "/test" in folder or folder.startswith(tempfile.gettempdir()), (
                f"refusing to empty the database in {folder}: not a test folder (set database_folder to a path "
                "containing /test/ or a temporary folder)"
            )
            truncate_all_tables(self.database)
        super().tearDown()

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.database is not None:
            cls.database.shutdown()
            cls.database = None
        super().tearDownClass()

    @staticmethod
    def delete_database(database: Any) -> None:
        delete_database(database)

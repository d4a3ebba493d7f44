"""``openmodule_makemigration``: autogenerate an alembic revision for a service's models.

Usage (in the service root, next to ``src/``)::

    openmodule_makemigration --init                 # copy the template to src/database
    openmodule_makemigration -m "add vehicle table"  # new revision in src/database/alembic/versions

The models are compared with a temporary database migrated to the current head, so the service's real
database is never touched. Nothing is written when the models did not change.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from importlib import resources

__all__ = ["main", "template_path", "init", "make_revision"]


def template_path() -> str:
    """The folder of the ``src/database`` template shipped with openmodule-database."""
    return str(resources.files("openmodule.database") / "_template")


def _default_path() -> str:
    return "src/database" if os.path.isdir("src") else "database"


def init(path: str) -> int:
    if os.path.exists(os.path.join(path, "alembic.ini")):
        print(f"{path}/alembic.ini exists already: nothing copied", file=sys.stderr)
        return 1
    shutil.copytree(
        template_path(), path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    print(f"created {path} (alembic.ini, alembic/env.py, alembic/script.py.mako, models.py)")
    return 0


def make_revision(path: str, message: str) -> list[str]:
    """Autogenerate a revision in ``path``; returns the created files (empty when the models are unchanged)."""
    from alembic import command

    from openmodule.database._engine import migration_engine
    from openmodule.database.migration import alembic_config, upgrade_database_file

    path = os.path.abspath(path)
    with tempfile.TemporaryDirectory(prefix="om-makemigration-") as tmp:
        db = os.path.join(tmp, "makemigration.sqlite3")
        versions = os.path.join(path, "alembic", "versions")
        has_revisions = (
            any(n.endswith(".py") and n != "__init__.py" for n in os.listdir(versions))
            if os.path.isdir(versions)
            else False
        )
        if has_revisions:
            upgrade_database_file(db, path)
        engine = migration_engine(db)
        try:
            with engine.connect() as conn:
                scripts = command.revision(alembic_config(path, conn), message=message, autogenerate=True)
                conn.commit()
        finally:
            engine.dispose()
    if scripts is None:
        return []
    if not isinstance(scripts, list):
        scripts = [scripts]
    return [s.path for s in scripts if s is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="openmodule_makemigration", description=__doc__.split("\n\n")[0])
    parser.add_argument("-m", "--message", default="auto", help="revision message (file name slug)")
    parser.add_argument(
        "--path",
        default=None,
        help="the database folder with alembic.ini (default: src/database, else database)",
    )
    parser.add_argument("--init", action="store_true", help="copy the template database folder to --path")
    args = parser.parse_args(argv)
    path = args.path or _default_path()
    if args.init:
        return init(path)
    from openmodule.database.errors import MigrationError

    try:
        created = make_revision(path, args.message)
    except MigrationError as e:
        print(f"openmodule_makemigration: {e}", file=sys.stderr)
        return 1
    if not created:
        print("No changes detected: no revision created")
    for p in created:
        print(f"created {os.path.relpath(p)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

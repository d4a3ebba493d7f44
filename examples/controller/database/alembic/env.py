"""Alembic environment of this service (copied from openmodule-database's template)."""

import importlib
import os
import sys

# alembic runs this file from the service, its tests or openmodule_makemigration: make the service's src
# folder (the parent of this database folder) importable in every case
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from openmodule.database.migration import run_env_py

# src/database/models.py: import every module that defines models there (or list more bases here)
models = importlib.import_module("database.models")

run_env_py([models.Base])

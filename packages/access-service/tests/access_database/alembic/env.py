# Loads models.py by path (the migration runs in a child process of the test).
import os
import runpy

from openmodule.database.migration import run_env_py

models = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models.py"))
run_env_py([models["Base"]])

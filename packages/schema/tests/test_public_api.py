from __future__ import annotations

import subprocess
import sys

import openmodule.utils.schema as schema


def test_all_is_complete() -> None:
    public = {n for n in dir(schema) if not n.startswith("_") and n not in {"annotations"}}
    assert set(schema.__all__) == public
    assert isinstance(schema.Schema, schema.SchemaClass)


def test_import_stays_light() -> None:
    code = (
        "import sys, openmodule.utils.schema; "
        "print(sorted(m for m in sys.modules if m.startswith(('openmodule.', 'zmq', 'sqlalchemy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "zmq" not in out and "sqlalchemy" not in out and "openmodule.messaging" not in out

from __future__ import annotations

import subprocess
import sys

import openmodule.alert


def test_all_is_complete():
    public = {name for name in dir(openmodule.alert) if not name.startswith("_") and name[0].isupper()}
    assert set(openmodule.alert.__all__) == public


def test_import_needs_no_core_and_no_heavy_deps():
    code = (
        "import sys, openmodule.alert, openmodule.models.alert\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sentry_sdk', 'redis')"
        " or m.startswith(('openmodule.core', 'openmodule.database', 'openmodule.rpc', 'openmodule.health'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

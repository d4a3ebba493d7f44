from __future__ import annotations

import subprocess
import sys

import openmodule.health


def test_all_is_complete():
    public = {name for name in dir(openmodule.health) if not name.startswith("_") and name[0].isupper()}
    public |= {"health_ok", "health_error", "is_reserved_label"}
    assert set(openmodule.health.__all__) == public
    for name in openmodule.health.__all__:
        assert getattr(openmodule.health, name) is not None


def test_import_needs_no_core_and_no_heavy_deps():
    code = (
        "import sys, openmodule.health, openmodule.models.health\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sentry_sdk', 'redis')"
        " or m.startswith(('openmodule.core', 'openmodule.database', 'openmodule.rpc', 'openmodule.alert'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

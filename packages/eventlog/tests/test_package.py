from __future__ import annotations

import subprocess
import sys

import openmodule.utils.eventlog


def test_all_is_complete():
    module = openmodule.utils.eventlog
    public = {n for n in dir(module) if not n.startswith("_") and n[0].isupper()} | {"send_event"}
    assert set(module.__all__) == public


def test_import_stays_light():
    code = (
        "import sys, openmodule.utils.eventlog\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sentry_sdk', 'redis')"
        " or m.startswith(('openmodule.core', 'openmodule.rpc', 'openmodule.database'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

from __future__ import annotations

import subprocess
import sys

import openmodule.models.io
import openmodule.utils.io


def test_all_is_complete():
    for module in (openmodule.utils.io, openmodule.models.io):
        public = {n for n in dir(module) if not n.startswith("_") and n[0].isupper()}
        public -= {"Any", "Datetime", "Field", "Gateway", "OpenModuleModel", "StrEnum", "ZMQMessage"}
        assert set(module.__all__) >= public, public - set(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)


def test_import_stays_light():
    code = (
        "import sys, openmodule.utils.io\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sentry_sdk', 'redis')"
        " or m.startswith(('openmodule.core', 'openmodule.rpc', 'openmodule.database'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

from __future__ import annotations

import subprocess
import sys

import openmodule.models.validation
import openmodule.utils.validation


def test_all_is_complete():
    for module in (openmodule.utils.validation, openmodule.models.validation):
        public = {
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and getattr(v, "__module__", module.__name__).startswith(module.__name__)
            and (isinstance(v, type) or callable(v))
        }
        assert public <= set(module.__all__), public - set(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)


def test_import_stays_light():
    code = (
        "import sys, openmodule.utils.validation\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sentry_sdk', 'redis')"
        " or m.startswith(('openmodule.core', 'openmodule.rpc', 'openmodule.database'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

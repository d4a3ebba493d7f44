"""openmodule.core: start, reach and stop the runtime of an openmodule service.

Usage::

    from openmodule.config import settings
    from openmodule.core import core, init_openmodule, shutdown_openmodule

    init_openmodule(settings)
    core().messages.register_handler("topic", MyMessage, on_message)
    ...
    shutdown_openmodule()
"""

from __future__ import annotations

from openmodule.core._core import (
    LAST_WILL_EXIT_CODE,
    LAST_WILL_TIMEOUT,
    OpenModuleCore,
    core,
    core_or_none,
    init_openmodule,
    shutdown_openmodule,
)
from openmodule.core._dsgvo import copy_dsgvo_config
from openmodule.messaging import NoRunningCore

__all__ = [
    "LAST_WILL_EXIT_CODE",
    "LAST_WILL_TIMEOUT",
    "NoRunningCore",
    "OpenModuleCore",
    "copy_dsgvo_config",
    "core",
    "core_or_none",
    "init_openmodule",
    "shutdown_openmodule",
]

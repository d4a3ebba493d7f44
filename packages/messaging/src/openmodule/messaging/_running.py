"""Where the running core can be found by the parts below it (the layer rule forbids importing it).

``openmodule.core.init_openmodule`` registers its core here and ``shutdown_openmodule`` removes it. Helpers
whose reference signature finds the core by itself (``send_event(...)``, ``SettingsProvider()``, the KV store's
sync loop) read it from here.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from openmodule.config import ServiceConfig

__all__ = ["NoRunningCore", "RunningCore", "running_core", "running_core_or_none", "set_running_core"]


class RunningCore(Protocol):
    """What the lower layers use of the running core (``openmodule.core.OpenModuleCore``)."""

    config: ServiceConfig
    messages: Any  # the user dispatcher: register_handler / unregister_handler
    rpc_client: Any  # rpc(channel, type, request, response_type, timeout=...) / rpc_non_blocking(...)
    connection_listener: Any  # get() / previous / changed(id) / wait_for_change(timeout)

    def publish(self, message: Any, topic: str) -> None: ...


class NoRunningCore(RuntimeError):
    """Raised when something needs the running core and none is running."""


_lock = threading.Lock()
_running: RunningCore | None = None


def set_running_core(core: RunningCore | None) -> None:
    """Register the running core (``None``: none runs). Called by ``init_openmodule`` / ``shutdown_openmodule``."""
    global _running
    with _lock:
        _running = core


def running_core_or_none() -> RunningCore | None:
    """The running core, or ``None``."""
    return _running


def running_core(what: str = "this") -> RunningCore:
    """The running core; ``NoRunningCore`` naming ``what`` needed it if none runs.

    Usage: ``running_core("send_event").publish(message, "eventlog")``
    """
    core = _running
    if core is None:
        raise NoRunningCore(
            f"{what} needs a running openmodule core: call init_openmodule(settings) first "
            "(in a test: use OpenModuleCoreTestMixin, or pass the dependency explicitly)"
        )
    return core

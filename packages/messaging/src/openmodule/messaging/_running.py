"""Where the running core can be found by the parts below it (the layer rule forbids importing it).

``openmodule.core.init_openmodule`` registers its core here and ``shutdown_openmodule`` removes it. Helpers
whose reference signature finds the core by itself (``send_event(...)``, ``SettingsProvider()``, the KV store's
sync loop) read it from here.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from openmodule.config import ServiceConfig

if TYPE_CHECKING:
    from openmodule.dispatcher import MessageDispatcher

__all__ = [
    "NoRunningCore",
    "RPCCaller",
    "RunningCore",
    "running_core",
    "running_core_or_none",
    "set_running_core",
]

_Response = TypeVar("_Response", bound=BaseModel)


class RPCCaller(Protocol):
    """What the parts below openmodule-rpc use of an RPC client: ``core().rpc_client`` (an
    ``openmodule.rpc.RPCClient``) or a test double such as ``openmodule_test.rpc.MockRPCClient``.

    Usage: ``def __init__(self, rpc_client: RPCCaller | None = None) -> None: ...``
    """

    def rpc(
        self,
        channel: str,
        type: str,
        request: BaseModel | dict[str, Any] | None,
        response_type: type[_Response],
        timeout: float | None = None,
    ) -> _Response: ...

    def rpc_non_blocking(
        self,
        channel: str,
        type: str,
        request: BaseModel | dict[str, Any] | None,
        timeout: float | None = None,
    ) -> object: ...


class RunningCore(Protocol):
    """What the lower layers use of the running core (``openmodule.core.OpenModuleCore``)."""

    config: ServiceConfig
    connection_listener: Any  # get() / previous / changed(id) / wait_for_change(timeout)

    @property
    def messages(self) -> MessageDispatcher:
        """The user dispatcher (register_handler / unregister_handler)."""

    @property
    def rpc_client(self) -> RPCCaller:
        """The core's RPC client."""

    def publish(self, message: BaseModel | dict[str, Any], topic: str) -> None: ...


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

"""ConnectionStatusListener: the device's cloud (and bridge) connection, kept up to date from the bus."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openmodule.config import ServiceConfig
from openmodule.connection_status._models import (
    BridgeStatus,
    ConnectionRPCResponse,
    ConnectionStatus,
    ConnectionStatusMessage,
)
from openmodule.dispatcher import MessageDispatcher
from openmodule.messaging import RPCCaller

if TYPE_CHECKING:  # redis is imported when the listener first uses it
    import redis

log = logging.getLogger("openmodule.connection_status")

TOPIC = "connection_internal"
RPC_CHANNEL = "connection"
RPC_TYPE = "status"
#: Without a message or RPC answer for this long, a live status (startup/online) becomes ``shutdown``.
TIMEOUT = 60.0


def _now() -> float:
    return time.time()


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """A connection status with its bridge status (``listener._status`` / ``listener._previous_status``)."""

    connected: ConnectionStatus
    bridge_status: BridgeStatus | None = None


class ConnectionStatusListener:
    """Whether the device is connected to the cloud server and, when bridged, to the master.

    The core runs one on its internal dispatcher (``core().connection_listener``); services poll it or wait
    for changes, there are no callbacks.

    Usage::

        listener = core().connection_listener
        if listener.get() == ConnectionStatus.online: ...
        if listener.changed(str(id(self))): react_to(listener.get(), listener.previous)
        listener.wait_for_change(timeout=5)

    The first value comes from Redis (``REDIS_CONNECTION_STATUS_KEY``) when Redis answers with something
    readable, else from the ``connection``/``status`` RPC, else it is ``shutdown``.
    """

    def __init__(
        self,
        dispatcher: MessageDispatcher,
        rpc_client: RPCCaller | None = None,
        *,
        config: ServiceConfig | None = None,
        redis_client: redis.Redis | None = None,
        use_redis: bool = True,
        rpc_timeout: float | None = None,
        time_func: Callable[[], float] | None = None,
        rpc_forbidden: Callable[[], bool] | None = None,
    ) -> None:
        """``dispatcher`` delivers ``connection_internal`` messages; ``rpc_client`` answers the start value.

        ``time_func`` (epoch seconds) is injectable so the 60 s rule can be tested without sleeping;
        ``rpc_forbidden`` returns True on the thread that delivers RPC replies, where a blocking RPC would
        wait for itself.
        """
        self._dispatcher = dispatcher
        self._rpc_client = rpc_client
        self._config = config
        self._redis_client = redis_client
        self._use_redis = use_redis
        self._rpc_timeout = rpc_timeout
        # Looked up at each call (not bound once): freezegun's frozen time.time is seen in tests.
        self._time: Callable[[], float] = time_func if time_func is not None else _now
        self._rpc_forbidden = rpc_forbidden
        self._cond = threading.Condition()
        self._init_lock = threading.Lock()
        # The current and the previous status, each with ``.connected`` and ``.bridge_status`` (as in the
        # reference, whose test suites read them); ``_initialized`` tells whether a value was ever known.
        self._status = ConnectionState(ConnectionStatus.shutdown, None)
        self._previous_status = ConnectionState(ConnectionStatus.shutdown, None)
        self._initialized = False
        self.last_changed_time: float = self._time()
        self._last_seen: float = self._time()
        self._change_count = 0
        self._changed_ids: set[str] = set()
        self._handle: Any = None
        if dispatcher is not None:
            self._handle = dispatcher.register_handler(
                TOPIC, ConnectionStatusMessage, self._on_message, register_schema=False
            )

    # -- public API -------------------------------------------------------------------------------
    @property
    def previous(self) -> ConnectionStatus:
        """The connection status before the last change (``shutdown`` at first)."""
        return self._previous_status.connected

    @property
    def previous_bridge(self) -> BridgeStatus | None:
        """The bridge status before the last change (``None`` at first)."""
        return self._previous_status.bridge_status

    def get(self) -> ConnectionStatus:
        """The current connection status (initialized on first use)."""
        self.check_timeout()
        status = self._ensure_initialized()
        return status

    def get_bridge(self) -> BridgeStatus | None:
        """The bridge status, ``None`` when none was ever reported."""
        self.check_timeout()
        self._ensure_initialized()
        with self._cond:
            return self._status.bridge_status

    def changed(self, id: str) -> bool:
        """True the first time ``id`` asks after each change (and the first time ever)."""
        self.check_timeout()
        self._ensure_initialized()
        with self._cond:
            if id in self._changed_ids:
                return False
            self._changed_ids.add(id)
            return True

    def wait_for_change(self, timeout: float | None = None) -> bool:
        """Block until the status changes; False when ``timeout`` (seconds) passes first.

        Also wakes when the 60 s message timeout falls due, so a quiet bus still ends in ``shutdown``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            start = self._change_count
            while self._change_count == start:
                if self._check_timeout_locked():
                    break
                wait: float | None = None
                if self._status.connected in (ConnectionStatus.startup, ConnectionStatus.online):
                    wait = max(self._last_seen + TIMEOUT - self._time(), 0.01)
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    wait = remaining if wait is None else min(wait, remaining)
                self._cond.wait(wait)
            return True

    def check_timeout(self) -> None:
        """Switch a live status to ``shutdown`` when nothing was heard for more than 60 s."""
        with self._cond:
            self._check_timeout_locked()

    def shutdown(self) -> None:
        """Stop listening (unregisters the handler) and wake every waiter."""
        if self._dispatcher is not None and self._handle is not None:
            self._dispatcher.unregister_handler(self._handle)
            self._handle = None
        with self._cond:
            self._cond.notify_all()

    # -- state machine ------------------------------------------------------------------------------
    def _on_message(self, message: ConnectionStatusMessage) -> None:
        """A ``connection_status`` message from the device's RPC client service."""
        self._update(message.connected, message.bridge_status)

    def _set(self, connected: ConnectionStatus, bridge_status: BridgeStatus | None = None) -> None:
        """Take ``connected`` (and a bridge status, if given) as just reported, as a message would (the
        reference's hook for tests of services)."""
        self._update(ConnectionStatus(connected), bridge_status)

    def _update(self, connected: ConnectionStatus, bridge: BridgeStatus | None) -> None:
        with self._cond:
            self._last_seen = self._time()
            first = not self._initialized
            self._initialized = True
            current = self._status
            if (
                first
                or connected != current.connected
                or (bridge is not None and bridge != current.bridge_status)
            ):
                self._set_locked(
                    connected, bridge if bridge is not None else current.bridge_status, first=first
                )

    def _check_timeout_locked(self) -> bool:
        if self._status.connected in (ConnectionStatus.startup, ConnectionStatus.online):
            silent = self._time() - self._last_seen
            if silent > TIMEOUT:
                log.warning("no connection status for %.0f s, assuming the connection was lost", silent)
                self._set_locked(ConnectionStatus.shutdown, self._status.bridge_status)
                return True
        return False

    def _set_locked(
        self, connected: ConnectionStatus, bridge: BridgeStatus | None, *, first: bool = False
    ) -> None:
        if not first:
            self._previous_status = self._status
        self._status = ConnectionState(connected, bridge)
        self.last_changed_time = self._time()
        self._change_count += 1
        self._changed_ids.clear()
        log.info(
            "connection status changed: %s -> %s (bridge %s -> %s)",
            self.previous.value,
            connected.value,
            getattr(self.previous_bridge, "value", None),
            getattr(bridge, "value", None),
        )
        self._cond.notify_all()

    # -- start value ------------------------------------------------------------------------------
    def _ensure_initialized(self) -> ConnectionStatus:
        with self._cond:
            if self._initialized:
                return self._status.connected
        with self._init_lock:
            with self._cond:
                if self._initialized:  # a message or another caller was faster
                    return self._status.connected
            response = self._from_redis()
            if response is None:
                if self._rpc_forbidden is not None and self._rpc_forbidden():
                    # On the RPC reply thread the answer could never arrive: do not cache, ask again later.
                    log.warning("connection status unknown; not asking by RPC from the RPC reply thread")
                    return ConnectionStatus.shutdown
                response = self._from_rpc()
            with self._cond:
                if self._initialized:
                    return self._status.connected
                if response is None:
                    self._initialized = True
                    self._status = ConnectionState(ConnectionStatus.shutdown, None)
                    self._previous_status = ConnectionState(ConnectionStatus.shutdown, None)
                    self._last_seen = self._time()
                else:
                    self._update(response.connected, response.bridge_status)
                return self._status.connected

    def _settings(self) -> Any:
        if self._config is not None:
            return self._config
        from openmodule.config import settings

        return settings

    def _from_redis(self) -> ConnectionRPCResponse | None:
        if not self._use_redis:
            return None
        config = self._settings()
        key = getattr(config, "REDIS_CONNECTION_STATUS_KEY", "device_connection_status")
        try:
            client = self._redis_client
            if client is None:
                from openmodule.utils.redis import redis_client

                client = redis_client(config)
            raw: Any = client.get(key)  # redis-py types sync and async results together
        except Exception as exc:  # redis down, auth error, ... -> the RPC is the next source
            log.info("connection status not readable from redis (%s), asking by RPC", exc)
            return None
        if raw is None:
            return None
        parsed = parse_redis_status(raw)
        if parsed is None:
            log.warning("ignoring unreadable connection status in redis key %r: %.100r", key, raw)
        return parsed

    def _from_rpc(self) -> ConnectionRPCResponse | None:
        if self._rpc_client is None:
            log.warning("connection status unknown and no rpc client: assuming shutdown")
            return None
        from openmodule.models.base import EmptyModel

        try:
            result: ConnectionRPCResponse = self._rpc_client.rpc(
                RPC_CHANNEL, RPC_TYPE, EmptyModel(), ConnectionRPCResponse, timeout=self._rpc_timeout
            )
            return result
        except Exception as exc:
            log.warning("connection status RPC failed (%s): assuming shutdown", exc)
            return None


def parse_redis_status(raw: bytes | str) -> ConnectionRPCResponse | None:
    """Read the value kept in Redis: a JSON object like the RPC response, or a bare status value."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        text = text.strip()
        data: Any
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        if isinstance(data, str):
            data = {"connected": data}
        if not isinstance(data, dict):
            return None
        return ConnectionRPCResponse.model_validate(data)
    except Exception:
        return None

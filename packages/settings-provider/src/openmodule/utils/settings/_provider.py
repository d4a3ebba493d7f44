from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import ValidationError
from settings_models.serialization import parse_setting_from_obj

from openmodule.dispatcher import DropLog, MessageDispatcher
from openmodule.messaging import RPCCaller, running_core
from openmodule.models.base import OpenModuleModel
from openmodule.models.settings import (
    NO_SUCH_SETTING,
    SETTINGS_CHANNEL,
    SETTINGS_TOPIC,
    SettingsChangedMessage,
    SettingsGetManyRequest,
    SettingsGetRequest,
    SettingsGetResponse,
    SettingsGetResponseValue,
)

if TYPE_CHECKING:
    from settings_models.settings.common import CostGroups, GarageSettings, Gates, ParkingAreas, Parksettings
    from settings_models.settings.gate_control import GateMode

log = logging.getLogger("openmodule.utils.settings")

T = TypeVar("T")


@dataclass
class CacheEntry:
    """A cached raw value (as the server sent it); parsed on every read with the type asked for."""

    value: Any
    expires_at: float  # time.time() seconds


class _LenientGetManyResponse(OpenModuleModel):
    # Each entry is validated on its own, so one broken entry does not cost the others.
    settings: dict[str, Any] = {}


def cache_key(key: str, scope: str = "") -> str:
    """The cache key (and the form of ``changed_keys``): ``"<key>/<scope>"``."""
    return f"{key}/{scope}"


class SettingsProvider:
    """Cached, thread-safe access to the site's central settings.

    Values come from the ``settings`` RPC and are parsed with ``settings_models``: known keys get their model
    (``common/gates`` -> ``{gate: Gate}``), others need ``custom_type``. They are cached for ``expire_time``
    seconds; a ``changed`` message on the ``settings`` topic evicts the keys it names.

    Usage::

        settings_provider = SettingsProvider()                # the running core's RPC client and dispatcher
        gates = settings_provider.get("common/gates")
        mode = settings_provider.get("gate_control/mode", "gate_1")
        values = settings_provider.get_many({"common/currency": None, "my/flag": bool})

    ``rpc_client`` / ``dispatcher`` default to the running core's (``core.rpc_client``, ``core.messages``).
    A setting that is not set is ``None``; an RPC error or timeout raises; a value that does not parse raises
    from ``get`` and is ``None`` (logged) in ``get_many``.
    """

    def __init__(
        self,
        expire_time: float = 300.0,
        rpc_timeout: float = 3.0,
        *,
        rpc_client: RPCCaller | None = None,
        dispatcher: MessageDispatcher | None = None,
    ) -> None:
        if rpc_client is None or dispatcher is None:
            core = running_core("SettingsProvider() without rpc_client and dispatcher")
            rpc_client = rpc_client if rpc_client is not None else core.rpc_client
            dispatcher = dispatcher if dispatcher is not None else core.messages
        self.expire_time = expire_time
        self.rpc_timeout = rpc_timeout
        self.rpc_client = rpc_client
        self.dispatcher = dispatcher
        self.drops = DropLog(log)
        self._cached_values: dict[str, CacheEntry] = {}
        self._lock = threading.Lock()
        self._handle = dispatcher.register_handler(
            SETTINGS_TOPIC, SettingsChangedMessage, self.settings_changed
        )

    # -- cache --------------------------------------------------------------------------------------
    def settings_changed(self, message: SettingsChangedMessage) -> None:
        """Settings changed on the server: forget the cached values of ``changed_keys`` (``"<key>/<scope>"``)."""
        with self._lock:
            for key in message.changed_keys:
                self._cached_values.pop(key, None)

    def _cached(self, key: str, scope: str) -> CacheEntry | None:
        with self._lock:
            entry = self._cached_values.get(cache_key(key, scope))
        if entry is None or entry.expires_at <= time.time():
            return None
        return entry

    def _store(self, key: str, scope: str, value: Any) -> None:
        with self._lock:
            self._cached_values[cache_key(key, scope)] = CacheEntry(value, time.time() + self.expire_time)

    def clear_cache(self) -> None:
        """Forget every cached value."""
        with self._lock:
            self._cached_values.clear()

    def shutdown(self) -> None:
        """Stop listening to changed messages."""
        self.dispatcher.unregister_handler(self._handle)

    # -- get ----------------------------------------------------------------------------------------
    @overload
    def get(
        self, key: Literal["common/gates"], scope: Literal[""] = "", custom_type: None = None
    ) -> Gates | None: ...
    @overload
    def get(
        self, key: Literal["common/parksettings2"], scope: Literal[""] = "", custom_type: None = None
    ) -> Parksettings | None: ...
    @overload
    def get(
        self, key: Literal["common/parking_areas2"], scope: Literal[""] = "", custom_type: None = None
    ) -> ParkingAreas | None: ...
    @overload
    def get(
        self, key: Literal["common/garage_settings"], scope: Literal[""] = "", custom_type: None = None
    ) -> GarageSettings | None: ...
    @overload
    def get(
        self, key: Literal["common/cost_groups"], scope: Literal[""] = "", custom_type: None = None
    ) -> CostGroups | None: ...
    @overload
    def get(
        self,
        key: Literal["common/currency", "common/language", "common/timezone"],
        scope: Literal[""] = "",
        custom_type: None = None,
    ) -> str | None: ...
    @overload
    def get(
        self, key: Literal["gate_control/mode"], scope: str, custom_type: None = None
    ) -> GateMode | None: ...
    @overload
    def get(self, key: str, scope: str = "", *, custom_type: type[T]) -> T | None: ...
    @overload
    def get(self, key: str, scope: str, custom_type: type[T]) -> T | None: ...

    def get(self, key: str, scope: str = "", custom_type: Any = None) -> Any:
        """The setting ``key`` of ``scope`` parsed as its model (or ``custom_type``); ``None`` when not set.

        Raises the RPC client's errors (``TimeoutError``, ``ServerHandlerError``, a validation error for an
        answer that is not a settings response), ``KeyError`` for a key without a model and no
        ``custom_type``, and ``ValidationError`` / ``ValueError`` for a value that does not parse.
        """
        entry = self._cached(key, scope)
        if entry is not None:
            try:
                return parse_setting_from_obj(key, entry.value, custom_type)
            except (ValidationError, ValueError, KeyError):
                pass  # cached with another type in mind: ask the server again
        response = self.rpc_client.rpc(
            SETTINGS_CHANNEL,
            "get",
            SettingsGetRequest(key=key, scope=scope),
            SettingsGetResponse,
            timeout=self.rpc_timeout,
        )
        if not response.success:
            self._log_failure(
                response.error, "Settings RPC for key %s failed because of error %s", key, scope
            )
            return None
        self._store(key, scope, response.value)
        return parse_setting_from_obj(key, response.value, custom_type)

    def get_many(self, keys_with_types: dict[str, Any], scope: str = "") -> dict[str, Any]:
        """Several settings of ``scope``: ``{key: type or None}`` -> ``{key: value or None}``.

        Served from the cache when every key is cached (and parses), otherwise all keys with one
        ``settings``/``get_many`` RPC. A failed, missing or unparsable entry is ``None`` (logged); RPC errors
        and timeouts raise.
        """
        results: dict[str, Any] = {}
        for key, custom_type in keys_with_types.items():
            entry = self._cached(key, scope)
            if entry is None:
                break
            try:
                results[key] = parse_setting_from_obj(key, entry.value, custom_type)
            except (ValidationError, ValueError, KeyError):
                break
        else:
            return results

        response = self.rpc_client.rpc(
            SETTINGS_CHANNEL,
            "get_many",
            SettingsGetManyRequest(key=list(keys_with_types), scope=scope),
            _LenientGetManyResponse,
            timeout=self.rpc_timeout,
        )
        results = {}
        for key, custom_type in keys_with_types.items():
            results[key] = self._entry_value(key, scope, custom_type, response.settings.get(key))
        return results

    def _entry_value(self, key: str, scope: str, custom_type: Any, raw: Any) -> Any:
        if raw is None:
            self.drops.drop(
                "missing_entry",
                SETTINGS_CHANNEL,
                f"settings/get_many answered without {cache_key(key, scope)}",
            )
            return None
        try:
            entry = SettingsGetResponseValue.model_validate(raw)
        except ValidationError as exc:
            self.drops.drop(
                "invalid_entry", SETTINGS_CHANNEL, f"settings/get_many entry {cache_key(key, scope)}: {exc}"
            )
            return None
        if not entry.success:
            self._log_failure(entry.error, "Failed to get setting %s because of error %s", key, scope)
            return None
        self._store(key, scope, entry.value)
        try:
            return parse_setting_from_obj(key, entry.value, custom_type)
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            self.drops.drop("unparsable_value", SETTINGS_CHANNEL, f"setting {cache_key(key, scope)}: {exc}")
            return None

    @staticmethod
    def _log_failure(error: str | None, text: str, key: str, scope: str) -> None:
        if error != NO_SUCH_SETTING:
            log.error(text, cache_key(key, scope), error)

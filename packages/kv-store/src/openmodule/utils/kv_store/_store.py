from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from sqlalchemy import Column, Integer, String

from openmodule.config import GlobalSettings, SettingsModuleNotFound, settings
from openmodule.messaging import RPCCaller, running_core
from openmodule.models.kv_store import (
    KV_SYNC_CHANNEL,
    KVSetRequest,
    KVSetResponse,
    KVSyncRequest,
    KVSyncResponse,
    ServerSyncResponse,
)
from openmodule.models.rpc import ServerRPCRequest
from openmodule.rpc import RPCClient

log = logging.getLogger("openmodule.utils.kv_store")

_CHUNK = 500  # keys per IN (...) query: far below SQLite's variable limit
_LIVE = ("startup", "online")
_ABSENT = object()
_DOWN = ("shutdown", "offline")


class KVEntry:
    """Mixin of a key-value store table: ``key`` (unique) and ``e_tag`` (the server's version, primary key).

    Usage::

        class Access(KVEntry, Base):
            __tablename__ = "access"
            plate = Column(String, nullable=False)

            @classmethod
            def parse_value(cls, value: dict) -> dict:
                return {"plate": value["plate"]}
    """

    key = Column(String, unique=True, index=True, nullable=False)
    e_tag = Column(Integer, primary_key=True, index=True)

    @classmethod
    def parse_value(cls, value: Any) -> dict[str, Any]:
        """The column values (besides ``key`` and ``e_tag``) of the decoded server value."""
        raise NotImplementedError(f"{cls.__name__} must implement the classmethod parse_value(value)")

    def comparison_value(self) -> Any:
        """What ``KVStoreWithChangedNotification`` compares to find changed entries (default: the key)."""
        return self.key


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class _Router:
    """The ``kv_sync`` handlers of one RPC server, shared by every store registered on it (several stores
    in one service each answer to their own ``service`` name)."""

    def __init__(self, rpc_server: Any) -> None:
        self.stores: dict[str, KVStore] = {}
        rpc_server.add_filter(self._filter, KV_SYNC_CHANNEL, None)
        rpc_server.register_handler(KV_SYNC_CHANNEL, "set", KVSetRequest, KVSetResponse, self.set)
        rpc_server.register_handler(KV_SYNC_CHANNEL, "sync", KVSyncRequest, KVSyncResponse, self.sync)

    def _filter(self, request: Any, message: Any = None, handler: Any = None, **_: Any) -> bool:
        return getattr(request, "service", None) in self.stores

    def set(self, request: KVSetRequest, message: Any = None) -> KVSetResponse:
        """The server sets (or deletes) entries of a key-value store of this service."""
        return self.stores[request.service]._kvs_set(request, message)

    def sync(self, request: KVSyncRequest, message: Any = None) -> KVSyncResponse:
        """The server compares its e_tags with those of a key-value store of this service."""
        return self.stores[request.service]._kvs_sync(request, message)


_routers: weakref.WeakKeyDictionary[Any, _Router] = weakref.WeakKeyDictionary()
_routers_lock = threading.Lock()


class KVStore:
    """A database table kept in sync with the server; services read it but never write it.

    Set ``database_table`` to a :class:`KVEntry` model. The server pushes entries with ``kv_sync``/``set`` and
    compares e_tags with ``kv_sync``/``sync``; this service starts a sync when its connection comes up.

    Usage::

        class AccessStore(KVStore):
            database_table = Access

        store = AccessStore(core.database, core.rpc_client)
        store.register_rpcs(rpc_server)
        store.run_as_thread()        # syncs whenever the connection comes (back) up
        ...
        store.shutdown()

    ``rpc_client`` defaults to the running core's when a sync starts. ``service_name`` (default NAME) is the
    ``service`` the server addresses; give each store of a service its own.
    """

    database_table: ClassVar[type[Any]]
    service_name: ClassVar[str | None] = None
    DEBUG_ENTRY_START: ClassVar[int] = 2**62

    class ETagMismatchException(Exception):
        """A ``set`` named a ``previous_e_tag`` that is not the stored one: the request was not applied."""

    def __init__(
        self, db: Any = None, rpc_client: RPCCaller | None = None, sync_timeout: float = 30.0
    ) -> None:
        self.db = db
        self.rpc_client = rpc_client
        self.sync_timeout = sync_timeout
        self.counts: Counter[str] = Counter()
        self.run_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pending: Any = None
        self._pending_lock = threading.Lock()

    @property
    def service(self) -> str:
        """The ``service`` name the server uses for this store."""
        if self.service_name:
            return self.service_name
        try:
            return str(settings.NAME)
        except SettingsModuleNotFound:  # a script without a settings module: the environment's NAME
            return str(GlobalSettings.NAME)

    # -- RPCs the server calls ----------------------------------------------------------------------
    def register_rpcs(self, rpc_server: Any) -> None:
        """Serve ``kv_sync``/``set`` and ``kv_sync``/``sync`` for requests whose ``service`` is this store's."""
        with _routers_lock:
            router = _routers.get(rpc_server)
            if router is None:
                router = _routers[rpc_server] = _Router(rpc_server)
            other = router.stores.get(self.service)
            if other is not None and other is not self:
                raise ValueError(
                    f"{type(other).__name__} already serves kv_sync for service {self.service!r} on this RPC "
                    f"server: give {type(self).__name__} its own service_name"
                )
            router.stores[self.service] = self

    def _kvs_set(self, request: KVSetRequest, message: Any = None) -> KVSetResponse:
        """Apply a ``set`` in one transaction: all entries or none.

        Every ``previous_e_tag`` must match the stored e_tag (``None`` for a new key; a key may appear
        several times as a chain), else ``ETagMismatchException``. Matching rows are deleted and re-created
        from the decoded values (``null`` deletes).
        """
        table = self.database_table
        keys = list(dict.fromkeys(kv.key for kv in request.kvs))
        with self.db() as session:
            existing = {}
            for chunk in _chunks(keys):
                existing.update({row.key: row for row in session.query(table).filter(table.key.in_(chunk))})
            current: dict[str, int | None] = {key: row.e_tag for key, row in existing.items()}
            new_values: dict[str, Any] = {}
            for kv in request.kvs:
                if kv.previous_e_tag != current.get(kv.key):
                    self.counts["etag_mismatch"] += 1
                    error = (
                        f"kv_sync set for {self.service}: key {kv.key!r} names previous e_tag {kv.previous_e_tag} "
                        f"but {current.get(kv.key)} is stored; nothing of the request was applied"
                    )
                    log.error(error)
                    raise KVStore.ETagMismatchException(error)
                try:
                    value = json.loads(kv.value)
                except ValueError as exc:
                    self.counts["invalid_value"] += 1
                    raise ValueError(
                        f"kv_sync set for {self.service}: key {kv.key!r} has no JSON value: {exc}"
                    )
                new_values[kv.key] = (kv.e_tag, value)
                current[kv.key] = None if value is None else kv.e_tag
            state = self._before_set(list(existing.values()))
            for row in existing.values():
                session.delete(row)
            session.flush()  # the unique keys are free before the new rows arrive
            for key, (e_tag, value) in new_values.items():
                if value is not None:
                    session.add(table(key=key, e_tag=e_tag, **table.parse_value(value)))
            session.flush()
        self._after_set(keys, state)
        return KVSetResponse()

    def _kvs_sync(self, request: KVSyncRequest, message: Any = None) -> KVSyncResponse:
        """Compare the server's ``{key: e_tag}`` with the table (one query, dict lookups)."""
        table = self.database_table
        with self.db() as session:
            stored = dict(session.query(table.key, table.e_tag).all())
        sent = request.kvs
        return KVSyncResponse(
            additions={key: e_tag for key, e_tag in stored.items() if key not in sent},
            changes={
                key: stored[key] for key, e_tag in sent.items() if key in stored and stored[key] != e_tag
            },
            missing={key: e_tag for key, e_tag in sent.items() if key not in stored},
        )

    # hooks of KVStoreWithChangedNotification
    def _before_set(self, rows: list[Any]) -> Any:
        return None

    def _after_set(self, keys: list[str], state: Any) -> None:
        pass

    # -- starting a sync ----------------------------------------------------------------------------
    def _client(self) -> Any:
        return self.rpc_client if self.rpc_client is not None else running_core("KVStore sync").rpc_client

    def sync_with_server(self) -> Any:
        """Ask the server (through ``rpc-websocket``/``server_rpc``) to sync this store; returns the RPC entry."""
        request = ServerRPCRequest(
            rpc="kvs_sync",
            data={"resource": settings.RESOURCE, "service": self.service, "timeout": self.sync_timeout - 5},
        )
        return self._client().rpc_non_blocking(
            "rpc-websocket", "server_rpc", request, timeout=self.sync_timeout
        )

    def _log_sync_rpc_response(self, rpc_entry: Any) -> bool:
        """Wait for the sync's answer; log timeouts, cancellation and server errors. True on success."""
        try:
            rpc_entry.result(ServerSyncResponse)
        except RPCClient.TimeoutError:
            self.counts["sync_timeout"] += 1
            log.error("KV store sync of %s timed out after %s s", self.service, self.sync_timeout)
            return False
        except RPCClient.CancelError:
            log.info("KV store sync of %s was cancelled", self.service)
            return False
        except Exception as exc:
            self.counts["sync_error"] += 1
            log.error("KV store sync of %s failed on the server: %r", self.service, exc)
            return False
        log.info("KV store %s synced", self.service)
        return True

    def _sync_until_done(self, listener: Any) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            entry = self.sync_with_server()
            with self._pending_lock:
                self._pending = entry
                if self._stop.is_set():  # shutdown() ran before the entry was known: cancel it here
                    entry.cancel()
            try:
                if self._log_sync_rpc_response(entry):
                    return
            finally:
                with self._pending_lock:
                    self._pending = None
            if str(listener.get()) in _DOWN:
                return  # offline again: the next transition starts a new sync
            self._stop.wait(max(0.0, self.sync_timeout - (time.monotonic() - started)))

    def run(self) -> None:
        """Sync whenever the connection goes from shutdown/offline to startup/online (checked every second),
        retrying every ``sync_timeout`` until it succeeds or the connection is lost; until ``shutdown()``."""
        listener = running_core("KVStore.run").connection_listener
        watcher = f"kv_store-{id(self)}"
        while not self._stop.is_set():
            if listener.changed(watcher):
                if str(listener.get()) in _LIVE and str(listener.previous) in _DOWN:
                    self._sync_until_done(listener)
            self._stop.wait(1.0)

    def run_as_thread(self) -> threading.Thread:
        """``run()`` in a daemon thread (``run_thread``); an error in it is logged, the service keeps running."""

        def target() -> None:
            try:
                self.run()
            except Exception:
                log.exception("KV store %s: the sync loop failed and stopped", self.service)

        self.run_thread = threading.Thread(target=target, name=f"kv-store-{self.service}", daemon=True)
        self.run_thread.start()
        return self.run_thread

    def shutdown(self, timeout: float = 10) -> None:
        """Stop the sync loop: a pending sync is cancelled; waits up to ``timeout`` seconds for the thread."""
        self._stop.set()
        with self._pending_lock:
            if self._pending is not None:
                self._pending.cancel()
        if self.run_thread is not None:
            self.run_thread.join(timeout)


class KVStoreWithChangedNotification(KVStore):
    """A KV store that tells what changed after each ``set``.

    Implement ``_get_comparison_values(rows) -> {key: value}`` (called with the rows about to be replaced)
    and ``_send_changed_notification(success_keys, old_values)``; ``_find_changed_kvs`` gives the keys whose
    comparison value changed (added, deleted or different).
    """

    def _get_comparison_values(self, updated_kv_entries: list[Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _send_changed_notification(self, success_keys: list[str], old_values: dict[str, Any]) -> None:
        raise NotImplementedError

    def _before_set(self, rows: list[Any]) -> Any:
        return self._get_comparison_values(rows)

    def _after_set(self, keys: list[str], state: Any) -> None:
        self._send_changed_notification(keys, state)

    def _find_changed_kvs(self, success_keys: Iterable[str], old_values: dict[str, Any]) -> list[str]:
        """The keys of ``success_keys`` whose stored comparison value differs from ``old_values``."""
        keys = list(dict.fromkeys(success_keys))
        table = self.database_table
        new_values: dict[str, Any] = {}
        with self.db() as session:
            for chunk in _chunks(keys):
                for row in session.query(table).filter(table.key.in_(chunk)):
                    new_values[row.key] = row.comparison_value()
        return [key for key in keys if old_values.get(key, _ABSENT) != new_values.get(key, _ABSENT)]

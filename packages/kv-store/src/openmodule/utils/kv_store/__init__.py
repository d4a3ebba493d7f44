"""A database table kept in sync with the server: ``KVEntry`` (the table mixin) and ``KVStore``.

Usage::

    from openmodule.utils.kv_store import KVEntry, KVStore

    class AccessStore(KVStore):
        database_table = Access          # class Access(KVEntry, Base)

    store = AccessStore(core.database, core.rpc_client)
    store.register_rpcs(rpc_server)
    store.run_as_thread()
"""

from __future__ import annotations

from openmodule.utils.kv_store._store import KVEntry, KVStore, KVStoreWithChangedNotification

__all__ = ["KVEntry", "KVStore", "KVStoreWithChangedNotification"]

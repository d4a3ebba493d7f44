"""Wire models of the key-value store sync: the ``kv_sync`` RPCs the server calls (``set``, ``sync``) and the
``kvs_sync`` request a service sends to start a sync.

Usage::

    from openmodule.models.kv_store import KVSetRequest, KVSetRequestKV

    KVSetRequest(service="om_service_1", kvs=[KVSetRequestKV(key="a", value='{"x": 1}', e_tag=2)])
"""

from __future__ import annotations

from pydantic import Field

from openmodule.models.base import OpenModuleModel

__all__ = [
    "KV_SYNC_CHANNEL",
    "KVSetRequest",
    "KVSetRequestKV",
    "KVSetResponse",
    "KVSetResponseKV",
    "KVSyncRequest",
    "KVSyncResponse",
    "ServerSyncResponse",
]

#: RPC channel the server uses to push entries to a service.
KV_SYNC_CHANNEL = "kv_sync"


class KVSetRequestKV(OpenModuleModel):
    """One entry: ``value`` is JSON text (``"null"`` deletes the key), ``previous_e_tag`` the e_tag the
    service must hold for the key (``None``: the key must be new)."""

    key: str
    value: str = "null"
    e_tag: int | None = None
    previous_e_tag: int | None = None


class KVSetRequest(OpenModuleModel):
    """``kv_sync``/``set``: entries for ``service``, applied all or none."""

    service: str
    kvs: list[KVSetRequestKV]


class KVSetResponseKV(OpenModuleModel):
    """Per-key status (kept for compatibility; ``set`` answers with an empty response)."""

    key: str
    status: str = "error"
    error: str | None = None


class KVSetResponse(OpenModuleModel):
    """``kv_sync``/``set`` answer: empty; a failure is an RPC error."""


class KVSyncRequest(OpenModuleModel):
    """``kv_sync``/``sync``: the server's ``{key: e_tag}`` for ``service``."""

    service: str
    kvs: dict[str, int | None]


class KVSyncResponse(OpenModuleModel):
    """What differs: ``additions`` (stored, not sent), ``changes`` (stored e_tag differs), ``missing`` (sent, not
    stored), each ``{key: e_tag}`` (the service's e_tag, the server's for ``missing``)."""

    additions: dict[str, int | None] = Field(default_factory=dict)
    changes: dict[str, int | None] = Field(default_factory=dict)
    missing: dict[str, int | None] = Field(default_factory=dict)


class ServerSyncResponse(OpenModuleModel):
    """The server's answer to ``kvs_sync`` (empty)."""

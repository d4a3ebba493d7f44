"""The schema hook: how handler registrations reach the schema documents without an upward import.

The dispatcher (here) and the RPC server (openmodule-rpc) record what they register in TESTING, but the
schema documents belong to openmodule-schema, a higher layer that neither may import. That distribution
registers its recorder here when it is imported (openmodule-test imports it in every test run); until then
nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

__all__ = ["SchemaRecorder", "schema_recorder", "set_schema_recorder"]


class SchemaRecorder(Protocol):
    """What records message handlers and RPCs for the schema documents (``openmodule.utils.schema.Schema``).

    Usage: ``set_schema_recorder(Schema)``; both methods do nothing outside TESTING.
    """

    def save_message(
        self,
        topic: str,
        message_class: type[BaseModel],
        handler: Callable[..., Any],
        filter: object = None,
        /,
    ) -> None:
        """Record a message handler registered on ``topic`` (asserts that the handler is described)."""

    def save_rpc(
        self,
        channel: str,
        type: str,
        request_class: type[BaseModel],
        response_class: type[BaseModel],
        handler: Callable[..., Any],
        /,
    ) -> None:
        """Record the RPC ``type`` on ``channel`` (asserts that the handler is described)."""


_recorder: SchemaRecorder | None = None


def set_schema_recorder(recorder: SchemaRecorder | None) -> None:
    """Install the recorder that handler registrations report to (None: record nothing).

    Usage: ``set_schema_recorder(Schema)`` (what importing ``openmodule.utils.schema`` does)
    """
    global _recorder
    _recorder = recorder


def schema_recorder() -> SchemaRecorder | None:
    """The installed recorder, or None while no schema module was imported.

    Usage: ``recorder = schema_recorder(); if recorder is not None: recorder.save_rpc(...)``
    """
    return _recorder

"""The schema registry: models, RPCs and message handlers recorded during test runs, rendered as OpenAPI 3."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from openmodule.config import is_testing
from openmodule.utils.schema._refs import REF_PREFIX

log = logging.getLogger("openmodule.utils.schema")


DEFAULT_FILE = "../schemas.json"


def _unwrap(handler: Any) -> Any:
    while isinstance(handler, functools.partial):
        handler = handler.func
    return handler


def _handler_name(handler: Any) -> str:
    handler = _unwrap(handler)
    name = getattr(handler, "__name__", None)
    # Callable objects (an EventListener) have no __name__: their class names them.
    return name if isinstance(name, str) else type(handler).__name__


def _description(handler: Any) -> str:
    doc = getattr(_unwrap(handler), "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def _check_docstring(handler: Any, kind: str) -> None:
    doc = getattr(_unwrap(handler), "__doc__", None)
    assert isinstance(doc, str) and doc.strip(), (
        f"You need to describe the {kind} handler {_handler_name(handler)!r} ({handler!r}) with a docstring: "
        "it becomes the description in the generated schema. Lambdas cannot carry one: use a documented "
        "function, or register with register_schema=False"
    )


def _identity(value: Any) -> Any:
    """What makes two registrations "the same": the code, not the object.

    A test suite builds a new service (new bound methods, new filter lambdas) in every test; comparing
    objects would record one entry per test.
    """
    value = _unwrap(value)
    func = getattr(value, "__func__", value)
    code = getattr(func, "__code__", None)
    if code is not None:
        return ("code", code)
    if isinstance(value, dict):
        return ("dict", json.dumps(value, sort_keys=True, default=repr))
    if value is None or isinstance(value, (str, int, float, bool)):
        return ("value", value)
    return ("type", type(value))


def model_schemas(model: type[BaseModel]) -> dict[str, Any]:
    """The component schemas of ``model``: its own under its class name plus each nested definition."""
    schema = model.model_json_schema(ref_template=REF_PREFIX + "{model}")
    defs = schema.pop("$defs", {})
    result: dict[str, Any] = {model.__name__: schema}
    for name, definition in defs.items():
        result.setdefault(name, definition)
    return result


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": model.__name__,
        "content": {"application/json": {"schema": {"$ref": REF_PREFIX + model.__name__}}},
    }


class _RPC:
    __slots__ = ("handler", "request", "response")

    def __init__(self, request: type[BaseModel], response: type[BaseModel], handler: Any) -> None:
        self.request, self.response, self.handler = request, response, handler


class _Message:
    __slots__ = ("filter", "handler", "message_class")

    def __init__(self, message_class: type[BaseModel], handler: Any, filter: Any) -> None:
        self.message_class, self.handler, self.filter = message_class, handler, filter

    def identity(self) -> tuple[Any, ...]:
        return (self.message_class, _identity(self.handler), _identity(self.filter))


class SchemaClass:
    """Collects models, RPCs and message handlers while tests run and writes them as an OpenAPI 3 document.

    Usage::

        from openmodule.utils.schema import Schema

        Schema.save_model(Model)
        Schema.save_rpc("backend", "auth", AccessRequest, AccessResponse, handler)
        Schema.save_message("io", IoMessage, on_io, filter)
        Schema.to_file()              # merges into $SCHEMA_FILE or ../schemas.json

    Every recording and writing method does nothing unless ``openmodule.config.is_testing()`` is true.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.models: dict[str, type[BaseModel]] = {}
        self.rpcs: dict[str, _RPC] = {}
        self.messages: dict[str, list[_Message]] = {}

    # -- recording ----------------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self.models.clear()
            self.rpcs.clear()
            self.messages.clear()

    def save_model(self, model: type[BaseModel]) -> None:
        """Remember a pydantic model class (documented under its class name)."""
        if not is_testing():
            return
        self._save_model(model)

    def _save_model(self, model: type[BaseModel]) -> None:
        assert isinstance(model, type) and issubclass(model, BaseModel), (
            f"{model!r} is not a pydantic model class"
        )
        with self._lock:
            self.models[model.__name__] = model

    def save_rpc(
        self,
        channel: str,
        typ: str,
        request: type[BaseModel],
        response: type[BaseModel],
        handler: Callable[..., Any],
        validate: bool = True,
    ) -> None:
        """Remember the RPC ``typ`` on ``channel`` (key ``/<channel>/<typ>``; a later one replaces it).

        ``validate``: assert that the handler has a docstring (its description in the schema).
        """
        if not is_testing():
            return
        if validate:
            _check_docstring(handler, "RPC")
        with self._lock:
            self._save_model(request)
            self._save_model(response)
            self.rpcs[f"/{channel}/{typ}"] = _RPC(request, response, _unwrap(handler))

    def save_message(
        self,
        topic: str,
        message_class: type[BaseModel],
        handler: Callable[..., Any],
        filter: Any = None,
        validate: bool = True,
    ) -> None:
        """Remember a message handler under ``/<topic>/<handler name>``.

        Registrations of the same key with another message class, handler code or filter are all kept.
        ``validate``: assert that the handler has a docstring (its description in the schema).
        """
        if not is_testing():
            return
        if validate:
            _check_docstring(handler, "message")
        entry = _Message(message_class, _unwrap(handler), filter)
        with self._lock:
            self._save_model(message_class)
            entries = self.messages.setdefault(f"/{topic}/{_handler_name(handler)}", [])
            if all(e.identity() != entry.identity() for e in entries):
                entries.append(entry)

    # -- rendering ----------------------------------------------------------------------------------
    def render_rpcs(self) -> dict[str, Any]:
        """The OpenAPI paths of the recorded RPCs (``/<channel>/<type>`` -> a ``post`` operation)."""
        with self._lock:
            return {
                key: {
                    "post": {
                        "summary": _description(rpc.handler),
                        "tags": ["RPCs"],
                        "requestBody": _body(rpc.request),
                        "responses": {"200": _body(rpc.response)},
                    }
                }
                for key, rpc in self.rpcs.items()
            }

    def render_messages(self) -> dict[str, Any]:
        """The OpenAPI paths of the recorded message handlers (``/<topic>/<handler>`` -> a ``put``
        operation; several registrations of one key are numbered ``<key> - 1``, ``<key> - 2``, ...)."""
        paths: dict[str, Any] = {}
        with self._lock:
            for key, entries in self.messages.items():
                for i, entry in enumerate(entries, 1):
                    name = key if len(entries) == 1 else f"{key} - {i}"
                    paths[name] = {
                        "put": {
                            "summary": _description(entry.handler),
                            "tags": ["Messages"],
                            "requestBody": _body(entry.message_class),
                        }
                    }
        return paths

    def render_schema(self) -> dict[str, Any]:
        """The OpenAPI 3.0 document of everything recorded (``paths``/``components`` only when not empty)."""
        with self._lock:
            paths = {**self.render_rpcs(), **self.render_messages()}
            schemas: dict[str, Any] = {}
            for model in self.models.values():
                schemas.update(model_schemas(model))
        document: dict[str, Any] = {
            "openapi": "3.0.0",
            "info": {"title": "RPC & Message API", "version": "1.0.0"},
        }
        if paths:
            document["paths"] = paths
        if schemas:
            document["components"] = {"schemas": dict(sorted(schemas.items()))}
        return document

    def render_asyncapi(self) -> dict[str, Any]:
        """The AsyncAPI 3.0 document of everything recorded (see ``openapi_to_asyncapi``)."""
        from openmodule.utils.schema._asyncapi import openapi_to_asyncapi

        return openapi_to_asyncapi(self.render_schema())

    def __str__(self) -> str:
        return json.dumps(self.render_schema())

    # -- writing ------------------------------------------------------------------------------------
    def to_file(self, file_name: str | os.PathLike[str] | None = None) -> None:
        """Merge what was recorded into ``file_name``, else ``$SCHEMA_FILE``, else ``../schemas.json``.

        Does nothing outside of TESTING or when no model was recorded. An existing document keeps its
        paths and schemas unless they were recorded again. The file is replaced atomically under a lock,
        so test processes running at the same time neither corrupt nor lose each other's entries.
        """
        if not is_testing():
            return
        with self._lock:
            if not self.models:
                return
            fresh = self.render_schema()
        target = Path(file_name or os.environ.get("SCHEMA_FILE") or DEFAULT_FILE)
        with _file_lock(target):
            document = fresh
            existing = _read_existing(target)
            if existing is not None:
                document = existing
                document.setdefault("paths", {}).update(fresh.get("paths", {}))
                schemas = document.setdefault("components", {}).setdefault("schemas", {})
                schemas.update(fresh.get("components", {}).get("schemas", {}))
                document["components"]["schemas"] = dict(sorted(schemas.items()))
            _write_atomic(target, json.dumps(document))


def _read_existing(target: Path) -> dict[str, Any] | None:
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        document = json.loads(text)
    except ValueError as exc:
        log.warning("schema file %s is not valid JSON (%s): writing a fresh document", target, exc)
        return None
    if not isinstance(document, dict):
        log.warning("schema file %s does not hold a JSON object: writing a fresh document", target)
        return None
    return document


def _write_atomic(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _file_lock(target: Path) -> Iterator[None]:
    """An exclusive lock on the target's folder for the read-merge-write (POSIX; no lock elsewhere).

    Locking the folder (not a side file) leaves nothing behind next to the document.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: the atomic replace still prevents corruption
        yield
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


Schema = SchemaClass()

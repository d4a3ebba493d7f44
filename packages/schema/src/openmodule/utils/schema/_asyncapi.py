"""AsyncAPI 3.0 view of the schema document: the bus topics a service consumes and the RPCs it serves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openmodule.utils.schema._refs import REF_PREFIX

_SUFFIX = re.compile(r" - \d+$")


@dataclass(frozen=True)
class Operation:
    """One RPC or message handler read back from an OpenAPI schema document."""

    kind: str  # "rpc" or "message"
    key: str  # the OpenAPI path, e.g. "/backend/auth" or "/io/on_io - 2"
    topic: str  # RPC channel or message topic
    name: str  # RPC type or handler name
    summary: str
    request: str | None  # component schema name of the request / message model
    response: str | None  # component schema name of the RPC response (None for messages)


def _ref_name(body: Any) -> str | None:
    try:
        ref = body["content"]["application/json"]["schema"]["$ref"]
    except (KeyError, TypeError):
        return None
    return ref[len(REF_PREFIX) :] if isinstance(ref, str) and ref.startswith(REF_PREFIX) else None


def _split(key: str) -> tuple[str, str]:
    base = _SUFFIX.sub("", key)
    topic, _, name = base[1:].rpartition("/") if base.startswith("/") else base.rpartition("/")
    return topic, name


def read_operations(document: dict[str, Any]) -> list[Operation]:
    """The RPCs (``post`` paths) and message handlers (``put`` paths) of an OpenAPI document by ``Schema``."""
    operations: list[Operation] = []
    for key, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        topic, name = _split(key)
        if isinstance(item.get("post"), dict):
            op = item["post"]
            response = _ref_name((op.get("responses") or {}).get("200"))
            operations.append(
                Operation(
                    "rpc",
                    key,
                    topic,
                    name,
                    op.get("summary") or "",
                    _ref_name(op.get("requestBody")),
                    response,
                )
            )
        if isinstance(item.get("put"), dict):
            op = item["put"]
            operations.append(
                Operation(
                    "message",
                    key,
                    topic,
                    name,
                    op.get("summary") or "",
                    _ref_name(op.get("requestBody")),
                    None,
                )
            )
    return operations


def _id(text: str) -> str:
    # AsyncAPI map keys (channels, operations, messages) must match ^[A-Za-z0-9_\-]+$
    return re.sub(r"[^A-Za-z0-9_\-]", "_", text)


def _envelope(kind: str, rpc_type: str, ref: str | None) -> dict[str, Any]:
    """The wire envelope of an RPC request/response carrying the model under ``request``/``response``."""
    properties: dict[str, Any] = {
        "timestamp": {"type": "number"},
        "name": {"type": "string"},
        "type": {"type": "string", "const": rpc_type},
        "rpc_id": {"type": "string", "format": "uuid"},
    }
    if kind == "request":
        properties["resource"] = {"type": "string"}
    properties[kind] = {"$ref": REF_PREFIX + ref} if ref else {"type": "object"}
    required = ["timestamp", "name", "type", "rpc_id", kind]
    return {"type": "object", "properties": properties, "required": required}


def openapi_to_asyncapi(
    document: dict[str, Any], *, title: str = "RPC & Message API", version: str = "1.0.0"
) -> dict[str, Any]:
    """Convert an OpenAPI document written by ``Schema`` into an AsyncAPI 3.0 document for the bus.

    Message handlers become ``receive`` operations on a channel per topic (address = topic). RPCs become
    ``receive`` operations on ``rpc-req-<channel>`` with a ``reply`` on ``rpc-rep-<channel>``; their messages
    describe the wire envelope with the request/response model under ``request``/``response``.
    Usage: ``json.dump(openapi_to_asyncapi(json.load(open("schemas.json"))), out)``
    """
    bus = _AsyncAPIBuilder()
    for op in read_operations(document):
        if op.kind == "message":
            bus.add_message_handler(op)
        else:
            bus.add_rpc(op)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version},
        "defaultContentType": "application/json",
        "channels": bus.channels,
        "operations": bus.operations,
        "components": {
            "schemas": dict((document.get("components") or {}).get("schemas") or {}),
            "messages": bus.messages,
        },
    }


class _AsyncAPIBuilder:
    """The channels, operations and messages of an AsyncAPI document, added one operation at a time."""

    def __init__(self) -> None:
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}

    def channel(self, address: str) -> str:
        cid = _id(address)
        self.channels.setdefault(cid, {"address": address, "messages": {}})
        return cid

    def add_message(self, cid: str, mid: str, payload: dict[str, Any]) -> dict[str, str]:
        self.messages.setdefault(mid, {"name": mid, "contentType": "application/json", "payload": payload})
        self.channels[cid]["messages"][mid] = {"$ref": f"#/components/messages/{mid}"}
        return {"$ref": f"#/channels/{cid}/messages/{mid}"}

    def operation_id(self, base: str) -> str:
        oid, n = _id(base), 1
        while oid in self.operations:
            n += 1
            oid = f"{_id(base)}_{n}"
        return oid

    def add_message_handler(self, op: Operation) -> None:
        """A ``receive`` operation on the handler's topic."""
        cid = self.channel(op.topic)
        payload = {"$ref": REF_PREFIX + op.request} if op.request else {"type": "object"}
        ref = self.add_message(cid, _id(op.request or "message"), payload)
        self.operations[self.operation_id(f"{op.topic}.{op.name}")] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": op.summary,
            "tags": [{"name": "Messages"}],
            "messages": [ref],
        }

    def add_rpc(self, op: Operation) -> None:
        """A ``receive`` operation on ``rpc-req-<channel>`` with its ``reply`` on ``rpc-rep-<channel>``."""
        req_cid, rep_cid = self.channel(f"rpc-req-{op.topic}"), self.channel(f"rpc-rep-{op.topic}")
        base = _id(f"rpc.{op.topic}.{op.name}")
        req_ref = self.add_message(req_cid, f"{base}_request", _envelope("request", op.name, op.request))
        rep_ref = self.add_message(rep_cid, f"{base}_response", _envelope("response", op.name, op.response))
        self.operations[self.operation_id(f"rpc.{op.topic}.{op.name}")] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{req_cid}"},
            "summary": op.summary,
            "tags": [{"name": "RPCs"}],
            "messages": [req_ref],
            "reply": {"channel": {"$ref": f"#/channels/{rep_cid}"}, "messages": [rep_ref]},
        }

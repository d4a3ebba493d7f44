"""Compatibility diff of two schema documents: which changes break the other services on the bus."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openmodule.utils.schema._asyncapi import Operation, read_operations
from openmodule.utils.schema._refs import REF_PREFIX


@dataclass
class SchemaDiff:
    """The result of ``diff_documents``: human-readable breaking and compatible changes."""

    breaking: list[str] = field(default_factory=list)
    compatible: list[str] = field(default_factory=list)

    @property
    def is_breaking(self) -> bool:
        return bool(self.breaking)


def _op_id(op: Operation) -> tuple[str, str, str]:
    # A message is identified by topic and model (handler names are private to the service);
    # an RPC by channel and type.
    if op.kind == "rpc":
        return ("rpc", op.topic, op.name)
    return ("message", op.topic, op.request or "")


def _op_label(op: Operation) -> str:
    if op.kind == "rpc":
        return f"RPC {op.topic!r} type {op.name!r}"
    return f"message {op.request} on topic {op.topic!r}"


def _signature(schema: Any) -> str:
    """A canonical text of a schema's type (titles, defaults and descriptions ignored)."""
    if not isinstance(schema, dict):
        return "any"
    if "$ref" in schema:
        ref = schema["$ref"]
        return ref[len(REF_PREFIX) :] if isinstance(ref, str) and ref.startswith(REF_PREFIX) else str(ref)
    for combinator in ("anyOf", "oneOf"):
        if isinstance(schema.get(combinator), list):
            return " | ".join(sorted(_signature(s) for s in schema[combinator]))
    if isinstance(schema.get("allOf"), list):
        return " & ".join(_signature(s) for s in schema["allOf"])
    if "const" in schema:
        return f"const {json.dumps(schema['const'])}"
    typ = schema.get("type")
    if isinstance(typ, list):
        return " | ".join(sorted(_signature({**schema, "type": t}) for t in typ))
    if typ is None:
        return "enum" if "enum" in schema else "any"
    text = str(typ)
    if schema.get("format"):
        text += f"({schema['format']})"
    if typ == "array":
        text += f"[{_signature(schema.get('items'))}]"
    elif typ == "object" and isinstance(schema.get("additionalProperties"), dict):
        text += f"[str, {_signature(schema['additionalProperties'])}]"
    if "enum" in schema:
        text = f"enum of {text}"
    return text


def _refs(schema: Any) -> list[str]:
    """Component names referenced anywhere inside ``schema``."""
    found: list[str] = []
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.append(ref[len(REF_PREFIX) :])
        for value in schema.values():
            found.extend(_refs(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_refs(value))
    return found


def _enums(schema: Any) -> set[str]:
    values: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("enum"), list):
            values.update(json.dumps(v) for v in schema["enum"])
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key) or []:
                values |= _enums(sub)
    return values


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old_schemas = (old.get("components") or {}).get("schemas") or {}
        self.new_schemas = (new.get("components") or {}).get("schemas") or {}
        self.result = SchemaDiff()
        self.compared: set[str] = set()

    def model(self, name: str, label: str) -> None:
        """Compare component ``name`` of both documents (each model once)."""
        if name in self.compared:
            return
        self.compared.add(name)
        old, new = self.old_schemas.get(name), self.new_schemas.get(name)
        if old is None:
            return  # nothing to break: the old document did not describe it
        if new is None:
            self.result.breaking.append(f"{label}: model {name} is no longer described in the new document")
            return
        self.value(old, new, name, label)

    def value(self, old: Any, new: Any, path: str, label: str) -> None:
        old_sig, new_sig = _signature(old), _signature(new)
        if old_sig != new_sig:
            self.result.breaking.append(f"{label}: type of {path} changed from {old_sig} to {new_sig}")
            return
        removed = _enums(old) - _enums(new)
        if removed:
            self.result.breaking.append(f"{label}: {path} no longer accepts {', '.join(sorted(removed))}")
        added = _enums(new) - _enums(old)
        if added:
            self.result.compatible.append(f"{label}: {path} also accepts {', '.join(sorted(added))}")
        if (
            isinstance(old, dict)
            and isinstance(new, dict)
            and (isinstance(old.get("properties"), dict) or isinstance(new.get("properties"), dict))
        ):
            self.object(old, new, path, label)
        for ref in dict.fromkeys(_refs(old)):
            self.model(ref, label)

    def object(self, old: dict[str, Any], new: dict[str, Any], path: str, label: str) -> None:
        old_props: dict[str, Any] = old.get("properties") or {}
        new_props: dict[str, Any] = new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        for name, old_prop in old_props.items():
            where = f"{path}.{name}"
            if name not in new_props:
                self.result.breaking.append(f"{label}: field {where} was removed")
                continue
            if name in new_required and name not in old_required:
                self.result.breaking.append(f"{label}: field {where} is now required")
            new_prop = new_props[name]
            # The default of "type" is the message type the dispatcher matches on.
            if (
                name == "type"
                and isinstance(old_prop, dict)
                and isinstance(new_prop, dict)
                and old_prop.get("default") != new_prop.get("default")
            ):
                self.result.breaking.append(
                    f"{label}: message type {where} changed from {old_prop.get('default')!r} "
                    f"to {new_prop.get('default')!r}"
                )
            self.value(old_prop, new_prop, where, label)
        for name in new_props:
            if name in old_props:
                continue
            where = f"{path}.{name}"
            if name in new_required:
                self.result.breaking.append(f"{label}: new required field {where}")
            else:
                self.result.compatible.append(f"{label}: new optional field {where}")


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> SchemaDiff:
    """Compare two OpenAPI documents written by ``Schema`` and list breaking and compatible changes.

    Breaking: a removed RPC or message, a removed field, a field that became required (or a new required
    one), a changed field type, a removed enum value, a changed message ``type``.
    Usage: ``if diff_documents(old, new).is_breaking: ...``
    """
    differ = _Differ(old, new)
    old_ops = {_op_id(op): op for op in read_operations(old)}
    new_ops = {_op_id(op): op for op in read_operations(new)}
    for key, op in old_ops.items():
        label = _op_label(op)
        if key not in new_ops:
            what = "RPC" if op.kind == "rpc" else "message"
            differ.result.breaking.append(f"{label}: {what} was removed")
            continue
        new_op = new_ops[key]
        for part, old_name, new_name in (
            ("request", op.request, new_op.request),
            ("response", op.response, new_op.response),
        ):
            if old_name is None:
                continue
            if new_name != old_name:
                differ.result.breaking.append(f"{label}: {part} model changed from {old_name} to {new_name}")
                continue
            differ.model(old_name, label)
    for key, op in new_ops.items():
        if key not in old_ops:
            differ.result.compatible.append(f"{_op_label(op)}: added")
    return differ.result

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

from openmodule.utils.schema import Schema, openapi_to_asyncapi

KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


class Gate(BaseModel):
    gate: str


class AuthRequest(BaseModel):
    plate: str
    gate: Gate


class AuthResponse(BaseModel):
    success: bool


class IoMessage(BaseModel):
    type: str = "io"
    pin: str


def auth(request: AuthRequest) -> None:
    """Checks access."""


def on_io(message: IoMessage) -> None:
    """Handles io."""


def on_io_too(message: IoMessage) -> None:
    """Also handles io."""


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert part in node, f"unresolved reference {ref}"
        node = node[part]
    if isinstance(node, dict) and list(node) == ["$ref"]:  # a reference to a reference: follow it
        return resolve(document, node["$ref"])
    return node


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []


def test_asyncapi_document_structure(testing: SimpleNamespace) -> None:
    Schema.save_rpc("back/end", "auth", AuthRequest, AuthResponse, auth)
    Schema.save_message("io", IoMessage, on_io)
    Schema.save_message("io", IoMessage, on_io_too)
    document = Schema.render_asyncapi()
    json.dumps(document)  # serialisable

    assert document["asyncapi"] == "3.0.0"
    assert document["info"] == {"title": "RPC & Message API", "version": "1.0.0"}
    assert {k: v["address"] for k, v in document["channels"].items()} == {
        "rpc-req-back_end": "rpc-req-back/end",
        "rpc-rep-back_end": "rpc-rep-back/end",
        "io": "io",
    }
    assert sorted(document["operations"]) == ["io_on_io", "io_on_io_too", "rpc_back_end_auth"]
    for section in ("channels", "operations"):
        assert all(KEY.match(k) for k in document[section]), document[section].keys()
    for channel in document["channels"].values():
        assert all(KEY.match(k) for k in channel["messages"])
    for operation in document["operations"].values():
        assert operation["action"] in ("send", "receive")
        assert resolve(document, operation["channel"]["$ref"])
        for message in operation["messages"]:
            # an operation's messages must be messages of its channel
            assert message["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
    for ref in all_refs(document):
        resolve(document, ref)

    rpc = document["operations"]["rpc_back_end_auth"]
    assert rpc["summary"] == "Checks access."
    assert rpc["reply"]["channel"] == {"$ref": "#/channels/rpc-rep-back_end"}
    request = resolve(document, rpc["messages"][0]["$ref"])["payload"]
    assert request["properties"]["request"] == {"$ref": "#/components/schemas/AuthRequest"}
    assert request["properties"]["type"] == {"type": "string", "const": "auth"}
    response = resolve(document, rpc["reply"]["messages"][0]["$ref"])["payload"]
    assert response["properties"]["response"] == {"$ref": "#/components/schemas/AuthResponse"}
    io = resolve(document, document["operations"]["io_on_io_too"]["messages"][0]["$ref"])
    assert io["payload"] == {"$ref": "#/components/schemas/IoMessage"}
    assert sorted(document["components"]["schemas"]) == ["AuthRequest", "AuthResponse", "Gate", "IoMessage"]


def test_cli_converts_a_schema_file(testing: SimpleNamespace, tmp_path: Path, run_cli) -> None:
    Schema.save_message("io", IoMessage, on_io)
    Schema.to_file(tmp_path / "schemas.json")
    result = run_cli(
        "asyncapi",
        str(tmp_path / "schemas.json"),
        "-o",
        str(tmp_path / "asyncapi.json"),
        "--version",
        "2.1.0",
    )
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "asyncapi.json").read_text())
    assert written == openapi_to_asyncapi(Schema.render_schema(), version="2.1.0")
    assert written["info"]["version"] == "2.1.0"
    # default input: ../schemas.json from the working directory
    (tmp_path / "svc").mkdir()
    result = run_cli("asyncapi", cwd=tmp_path / "svc")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["channels"]["io"]["address"] == "io"

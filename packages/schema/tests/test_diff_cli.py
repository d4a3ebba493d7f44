"""``openmodule-schema diff`` in a subprocess on real pairs of documents."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from openmodule.utils.schema import SchemaClass, diff_documents


def handler(message: Any) -> None:
    """Documented."""


def document(rpcs: dict[str, tuple[type, type]], messages: dict[str, type]) -> dict[str, Any]:
    schema = SchemaClass()
    for key, (request, response) in rpcs.items():
        channel, typ = key.split("/")
        schema.save_rpc(channel, typ, request, response, handler)
    for topic, model in messages.items():
        schema.save_message(topic, model, handler)
    return schema.render_schema()


class Gate(BaseModel):
    gate: str


class Request(BaseModel):
    plate: str
    gate: Gate
    country: str | None = None


class Response(BaseModel):
    success: bool
    count: int = 0


class Io(BaseModel):
    type: str = "io"
    pin: str


BASE = {"rpcs": {"backend/auth": (Request, Response)}, "messages": {"io": Io}}


@pytest.fixture
def old(testing: Any) -> dict[str, Any]:
    return document(**BASE)


def run_diff(run_cli, write_json, old: dict[str, Any], new: dict[str, Any]):
    return run_cli("diff", write_json("old.json", old), write_json("new.json", new))


def test_identical_documents_are_compatible(old, run_cli, write_json) -> None:
    result = run_diff(run_cli, write_json, old, old)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("compatible: no breaking change from ")


def test_additions_are_compatible(old, run_cli, write_json) -> None:
    class Gate(BaseModel):
        gate: str
        lane: int = 1

    class Request(BaseModel):
        plate: str
        gate: Gate
        country: str | None = None
        extra: list[str] = []

    class Other(BaseModel):
        type: str = "other"

    new = document(
        {"backend/auth": (Request, Response), "backend/new": (Request, Response)}, {"io": Io, "other": Other}
    )
    result = run_diff(run_cli, write_json, old, new)
    assert result.returncode == 0, result.stdout
    assert "  + RPC 'backend' type 'new': added" in result.stdout
    assert "  + message Other on topic 'other': added" in result.stdout
    assert "  + RPC 'backend' type 'auth': new optional field Request.extra" in result.stdout
    assert "  + RPC 'backend' type 'auth': new optional field Gate.lane" in result.stdout
    quiet = run_cli("diff", "-q", write_json("o.json", old), write_json("n.json", new))
    assert quiet.returncode == 0 and "+" not in quiet.stdout


def breaking_lines(run_cli, write_json, old, new) -> list[str]:
    result = run_diff(run_cli, write_json, old, new)
    assert result.returncode == 1, result.stdout + result.stderr
    head, *lines = result.stdout.splitlines()
    assert head.endswith("new.json:") and "breaking change(s) from" in head
    return [line[4:] for line in lines if line.startswith("  - ")]


def test_removed_rpc(old, run_cli, write_json) -> None:
    new = document({}, {"io": Io})
    assert breaking_lines(run_cli, write_json, old, new) == ["RPC 'backend' type 'auth': RPC was removed"]


def test_removed_message(old, run_cli, write_json) -> None:
    new = document({"backend/auth": (Request, Response)}, {})
    assert breaking_lines(run_cli, write_json, old, new) == ["message Io on topic 'io': message was removed"]


def test_removed_field(old, run_cli, write_json) -> None:
    class Response(BaseModel):
        success: bool

    new = document({"backend/auth": (Request, Response)}, {"io": Io})
    assert breaking_lines(run_cli, write_json, old, new) == [
        "RPC 'backend' type 'auth': field Response.count was removed"
    ]


def test_newly_required_fields(old, run_cli, write_json) -> None:
    class Gate(BaseModel):
        gate: str
        lane: int

    class Request(BaseModel):
        plate: str
        gate: Gate
        country: str | None

    new = document({"backend/auth": (Request, Response)}, {"io": Io})
    assert breaking_lines(run_cli, write_json, old, new) == [
        "RPC 'backend' type 'auth': new required field Gate.lane",
        "RPC 'backend' type 'auth': field Request.country is now required",
    ]


def test_changed_types(old, run_cli, write_json) -> None:
    class Response(BaseModel):
        success: bool
        count: float = 0

    class Io(BaseModel):
        type: str = "io2"
        pin: int

    new = document({"backend/auth": (Request, Response)}, {"io": Io})
    assert breaking_lines(run_cli, write_json, old, new) == [
        "RPC 'backend' type 'auth': type of Response.count changed from integer to number",
        "message Io on topic 'io': message type Io.type changed from 'io' to 'io2'",
        "message Io on topic 'io': type of Io.pin changed from string to integer",
    ]


def test_changed_request_model(old, run_cli, write_json) -> None:
    new = document({"backend/auth": (Gate, Response)}, {"io": Io})
    assert breaking_lines(run_cli, write_json, old, new) == [
        "RPC 'backend' type 'auth': request model changed from Request to Gate"
    ]


def test_bad_input_exits_2(old, run_cli, write_json, tmp_path) -> None:
    result = run_cli("diff", write_json("old.json", old), str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert "openmodule-schema diff: error: cannot read" in result.stderr
    result = run_cli("diff", write_json("old.json", old), write_json("new.json", {"swagger": "2.0"}))
    assert result.returncode == 2
    assert "is not an OpenAPI 3 document" in result.stderr
    assert run_cli("diff", "only-one").returncode == 2
    help_ = run_cli("diff", "--help")
    assert help_.returncode == 0 and "exit status" in help_.stdout.lower()


def test_diff_documents_api(old) -> None:
    assert not diff_documents(old, old).is_breaking
    assert diff_documents(old, document({}, {})).breaking == [
        "RPC 'backend' type 'auth': RPC was removed",
        "message Io on topic 'io': message was removed",
    ]

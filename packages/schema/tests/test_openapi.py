from __future__ import annotations

import functools
import json
from enum import StrEnum
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import BaseModel, Field

from openmodule.config import settings
from openmodule.utils.schema import Schema, SchemaClass, model_schemas


class Gate(BaseModel):
    gate: str
    direction: str = "in"


class AccessRequest(BaseModel):
    plate: str
    gate: Gate | None = None


class AccessResponse(BaseModel):
    success: bool


class Kind(StrEnum):
    a = "a"
    b = "b"


class IoMessage(BaseModel):
    type: str = "io"
    pin: str = Field(alias="pinName")
    kind: Kind


def auth(request: AccessRequest) -> AccessResponse:
    """
    Checks access.

        Indented detail.
    """
    return AccessResponse(success=True)


def on_io(message: IoMessage) -> None:
    """Handles io messages."""


EXPECTED = {
    "openapi": "3.0.0",
    "info": {"title": "RPC & Message API", "version": "1.0.0"},
    "paths": {
        "/backend/auth": {
            "post": {
                "summary": "Checks access.\n\n    Indented detail.",
                "tags": ["RPCs"],
                "requestBody": {
                    "description": "AccessRequest",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/AccessRequest"}}
                    },
                },
                "responses": {
                    "200": {
                        "description": "AccessResponse",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/AccessResponse"}}
                        },
                    }
                },
            }
        },
        "/io/on_io": {
            "put": {
                "summary": "Handles io messages.",
                "tags": ["Messages"],
                "requestBody": {
                    "description": "IoMessage",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IoMessage"}}},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "AccessRequest": {
                "properties": {
                    "plate": {"title": "Plate", "type": "string"},
                    "gate": {
                        "anyOf": [{"$ref": "#/components/schemas/Gate"}, {"type": "null"}],
                        "default": None,
                    },
                },
                "required": ["plate"],
                "title": "AccessRequest",
                "type": "object",
            },
            "AccessResponse": {
                "properties": {"success": {"title": "Success", "type": "boolean"}},
                "required": ["success"],
                "title": "AccessResponse",
                "type": "object",
            },
            "Gate": {
                "properties": {
                    "gate": {"title": "Gate", "type": "string"},
                    "direction": {"default": "in", "title": "Direction", "type": "string"},
                },
                "required": ["gate"],
                "title": "Gate",
                "type": "object",
            },
            "IoMessage": {
                "properties": {
                    "type": {"default": "io", "title": "Type", "type": "string"},
                    "pinName": {"title": "Pinname", "type": "string"},
                    "kind": {"$ref": "#/components/schemas/Kind"},
                },
                "required": ["pinName", "kind"],
                "title": "IoMessage",
                "type": "object",
            },
            "Kind": {"enum": ["a", "b"], "title": "Kind", "type": "string"},
        }
    },
}


def test_document_is_exactly_the_reference_shape(testing: SimpleNamespace) -> None:
    Schema.save_rpc("backend", "auth", AccessRequest, AccessResponse, auth)
    Schema.save_message("io", IoMessage, on_io)
    assert Schema.render_schema() == EXPECTED
    assert list(Schema.render_schema()) == ["openapi", "info", "paths", "components"]
    assert str(Schema) == json.dumps(EXPECTED)


def test_nothing_is_recorded_outside_of_testing(tmp_path: Path) -> None:
    settings.configure(SimpleNamespace(TESTING=False))
    Schema.save_model(Gate)
    Schema.save_rpc(
        "backend", "auth", AccessRequest, AccessResponse, lambda r: r
    )  # no docstring check either
    Schema.save_message("io", IoMessage, on_io)
    Schema.to_file(tmp_path / "out.json")
    assert Schema.render_schema() == {
        "openapi": "3.0.0",
        "info": {"title": "RPC & Message API", "version": "1.0.0"},
    }
    assert not (tmp_path / "out.json").exists()


def test_no_settings_module_means_not_testing() -> None:
    Schema.save_model(Gate)  # SETTINGS_MODULE "config" does not exist here: treated as not testing
    assert Schema.models == {}


def test_save_model_only_adds_components(testing: SimpleNamespace) -> None:
    Schema.save_model(AccessRequest)
    document = Schema.render_schema()
    assert "paths" not in document
    assert sorted(document["components"]["schemas"]) == ["AccessRequest", "Gate"]
    assert "$defs" not in json.dumps(document)


def test_undocumented_handlers_are_rejected(testing: SimpleNamespace) -> None:
    with pytest.raises(AssertionError, match="You need to describe the message handler '<lambda>'"):
        Schema.save_message("io", IoMessage, lambda m: None)
    with pytest.raises(AssertionError, match="You need to describe the RPC handler 'undocumented'"):

        def undocumented(request: AccessRequest) -> None:
            pass

        Schema.save_rpc("backend", "auth", AccessRequest, AccessResponse, undocumented)
    assert Schema.models == {}
    Schema.save_message("io", IoMessage, lambda m: None, validate=False)
    assert Schema.render_schema()["paths"]["/io/<lambda>"]["put"]["summary"] == ""


def test_partial_handlers_are_unwrapped(testing: SimpleNamespace) -> None:
    Schema.save_message("io", IoMessage, functools.partial(functools.partial(on_io)))
    assert Schema.render_schema()["paths"]["/io/on_io"]["put"]["summary"] == "Handles io messages."


def test_rpc_key_is_replaced_by_a_later_registration(testing: SimpleNamespace) -> None:
    def other(request: Gate) -> None:
        """Other."""

    Schema.save_rpc("backend", "auth", AccessRequest, AccessResponse, auth)
    Schema.save_rpc("backend", "auth", Gate, AccessResponse, other)
    paths = Schema.render_schema()["paths"]
    assert list(paths) == ["/backend/auth"]
    assert paths["/backend/auth"]["post"]["summary"] == "Other."
    assert paths["/backend/auth"]["post"]["requestBody"]["description"] == "Gate"


def test_same_key_with_other_filters_is_kept_as_a_list(testing: SimpleNamespace) -> None:
    class Service:
        def on_message(self, message: IoMessage) -> None:
            """Handles it."""

    # A test suite builds the service again for every test: the same code is recorded once.
    for _ in range(3):
        Schema.save_message("io", IoMessage, Service().on_message, {"gate": "in"})
    Schema.save_message("io", IoMessage, Service().on_message, {"gate": "out"})
    Schema.save_message("io", Gate, Service().on_message, {"gate": "out"})
    paths = Schema.render_schema()["paths"]
    assert list(paths) == ["/io/on_message - 1", "/io/on_message - 2", "/io/on_message - 3"]
    assert [p["put"]["requestBody"]["description"] for p in paths.values()] == [
        "IoMessage",
        "IoMessage",
        "Gate",
    ]
    # the two halves of the paths, as the reference's render_rpcs / render_messages give them
    Schema.save_rpc("backend", "auth", Gate, Gate, Service().on_message)
    assert list(Schema.render_messages()) == list(paths)
    assert list(Schema.render_rpcs()) == ["/backend/auth"]
    assert Schema.render_schema()["paths"] == {**Schema.render_rpcs(), **Schema.render_messages()}


def test_callable_objects_are_named_by_their_class(testing: SimpleNamespace) -> None:
    class Listener(list):
        """Calls each function appended to it."""

        def __call__(self, message: IoMessage) -> None:
            for f in self:
                f(message)

    Schema.save_message("io", IoMessage, Listener())
    assert (
        Schema.render_schema()["paths"]["/io/Listener"]["put"]["summary"]
        == "Calls each function appended to it."
    )


def test_model_schemas_lists_nested_definitions() -> None:
    schemas = model_schemas(AccessRequest)
    assert list(schemas) == ["AccessRequest", "Gate"]
    assert schemas["AccessRequest"]["properties"]["gate"]["anyOf"][0] == {"$ref": "#/components/schemas/Gate"}


def test_instances_are_independent(testing: SimpleNamespace) -> None:
    mine = SchemaClass()
    mine.save_model(Gate)
    assert Schema.models == {}
    assert list(mine.models) == ["Gate"]

"""openmodule.utils.schema: OpenAPI (and AsyncAPI) documents of a service's RPCs, message handlers and models.

Handlers registered with ``register_schema=True`` (the default) are recorded while tests run (TESTING);
the test mixins write them with ``Schema.to_file()``. ``openmodule-schema diff OLD NEW`` gates releases.

Usage::

    from openmodule.utils.schema import Schema

    Schema.save_model(Model)
    Schema.save_rpc(channel, type, request, response, handler)
    Schema.save_message(topic, message_class, handler, filter)
    Schema.to_file()
"""

from __future__ import annotations

from openmodule.utils.schema._asyncapi import openapi_to_asyncapi
from openmodule.utils.schema._diff import SchemaDiff, diff_documents
from openmodule.utils.schema._registry import Schema, SchemaClass, model_schemas

__all__ = [
    "Schema",
    "SchemaClass",
    "SchemaDiff",
    "diff_documents",
    "model_schemas",
    "openapi_to_asyncapi",
]

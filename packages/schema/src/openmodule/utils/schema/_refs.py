"""Where the documents keep their models: the lowest module of the schema distribution (imports nothing)."""

from __future__ import annotations

#: ``$ref`` prefix of a model in an OpenAPI document (``#/components/schemas/<Model>``)
REF_PREFIX = "#/components/schemas/"

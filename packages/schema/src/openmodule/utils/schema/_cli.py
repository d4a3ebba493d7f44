"""``openmodule-schema``: compare schema documents (CI gate) and export them as AsyncAPI."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from openmodule.utils.schema._asyncapi import openapi_to_asyncapi
from openmodule.utils.schema._diff import diff_documents
from openmodule.utils.schema._registry import DEFAULT_FILE

EXIT_OK, EXIT_BREAKING, EXIT_USAGE = 0, 1, 2


class _InputError(Exception):
    pass


def _load(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise _InputError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise _InputError(
            f"{path} is not an OpenAPI 3 document written by openmodule.utils.schema "
            '(no top-level "openapi": "3.x")'
        )
    return document


def _diff(args: argparse.Namespace) -> int:
    old, new = _load(args.old), _load(args.new)
    result = diff_documents(old, new)
    if result.breaking:
        print(f"{len(result.breaking)} breaking change(s) from {args.old} to {args.new}:")
        for line in result.breaking:
            print(f"  - {line}")
    else:
        print(f"compatible: no breaking change from {args.old} to {args.new}")
    if result.compatible and not args.quiet:
        print(f"{len(result.compatible)} compatible change(s):")
        for line in result.compatible:
            print(f"  + {line}")
    return EXIT_BREAKING if result.breaking else EXIT_OK


def _asyncapi(args: argparse.Namespace) -> int:
    source = args.file or os.environ.get("SCHEMA_FILE") or DEFAULT_FILE
    document = openapi_to_asyncapi(_load(source), title=args.title, version=args.version)
    text = json.dumps(document, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openmodule-schema",
        description="Work with the schema documents that openmodule.utils.schema writes during test runs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diff = commands.add_parser(
        "diff",
        help="list breaking changes between two schema documents (exit status 1 if any)",
        description="Compare OLD and NEW (OpenAPI documents written by Schema.to_file). Breaking: a removed RPC "
        "or message, a removed field, a newly required field, a changed field type, a removed enum "
        "value, a changed message type. Exit status: 0 compatible, 1 breaking, 2 bad input.",
    )
    diff.add_argument("old", metavar="OLD", help="schema document of the released version")
    diff.add_argument("new", metavar="NEW", help="schema document of the new version")
    diff.add_argument("-q", "--quiet", action="store_true", help="do not list compatible changes")
    diff.set_defaults(run=_diff)
    asyncapi = commands.add_parser(
        "asyncapi",
        help="convert a schema document to AsyncAPI 3.0",
        description="Write the AsyncAPI 3.0 document of the topics and RPCs in FILE "
        f"(default: $SCHEMA_FILE, else {DEFAULT_FILE}).",
    )
    asyncapi.add_argument("file", metavar="FILE", nargs="?", help="OpenAPI schema document")
    asyncapi.add_argument("-o", "--output", help="write here instead of standard output")
    asyncapi.add_argument("--title", default="RPC & Message API", help="info.title of the document")
    asyncapi.add_argument("--version", default="1.0.0", help="info.version of the document")
    asyncapi.set_defaults(run=_asyncapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``openmodule-schema`` console script."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except _InputError as exc:
        print(f"openmodule-schema {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

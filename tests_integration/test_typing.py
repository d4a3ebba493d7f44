"""Typed for service authors: mypy on a sample service, against the installed distributions.

tests_integration/typing_sample/service.py is written like the README's examples (core, publish, RPC server
and client, messages, health, alerts, database). mypy checks it with typing_sample/mypy.ini (strict, plus
``disallow_any_expr``), finding our packages where they are installed, as a service's mypy would: a
distribution without its py.typed would be skipped and its API would be ``Any``.

- service.py: no error, and no ``Any`` leaking from our API. ``disallow_any_expr`` also reports expressions
  whose type merely contains ``Any`` somewhere inside (``dict[str, Any]`` payloads, pyzmq's
  ``Context[Any]``, SQLAlchemy's model classes): those are allowed; an expression that *is* ``Any``, or a
  union with ``Any`` in it, is not. ``assert_type`` pins the key API (``core()`` is ``OpenModuleCore``, RPC
  responses are the response model, ...).
- misuse.py: every line marked ``# E: <code>`` is reported with that code, and nothing else; an untyped API
  would let all of them through.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

SAMPLE = Path(__file__).resolve().parent / "typing_sample"
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[a-z-]+)\]$")
CONTAINS_ANY = re.compile(r'^Expression type contains "Any" \(has type "(?P<type>.*)"\)$')


def _top_level_members(type_text: str) -> list[str]:
    """``A | B[C | D]`` -> ``["A", "B[C | D]"]``."""
    members, depth, current = [], 0, ""
    for part in re.split(r"(\[|\]|\(|\)| \| )", type_text):
        if part in ("[", "("):
            depth += 1
        elif part in ("]", ")"):
            depth -= 1
        if part == " | " and depth == 0:
            members.append(current)
            current = ""
        else:
            current += part
    return [*members, current]


def leaks_any(message: str) -> bool:
    """True for an expression that is Any (or a union with Any); False for Any nested inside a type."""
    match = CONTAINS_ANY.match(message)
    if match is None:
        return True  # "Expression has type "Any"" and every other report
    return "Any" in _top_level_members(match["type"])


def test_leak_rule() -> None:
    assert leaks_any('Expression has type "Any"')
    assert leaks_any('Expression type contains "Any" (has type "CountResponse | Any")')
    assert not leaks_any('Expression type contains "Any" (has type "dict[str, Any]")')
    assert not leaks_any('Expression type contains "Any" (has type "Callable[[], HealthResult] | None")')
    assert not leaks_any('Expression type contains "Any" (has type "dict[str, int | Any]")')


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str, str]]]:
    files = [SAMPLE / "service.py", SAMPLE / "misuse.py"]
    cache = tmp_path_factory.mktemp("mypy-cache")
    # Our own mypy.ini only: the repository's [tool.mypy] puts every packages/*/src on mypy_path, which
    # would treat our code as typed whether or not it ships py.typed.
    stdout, stderr, _status = api.run(
        ["--config-file", str(SAMPLE / "mypy.ini"), "--cache-dir", str(cache), *map(str, files)]
    )
    assert stderr == "", stderr
    found: dict[str, list[tuple[int, str, str]]] = {f.name: [] for f in files}
    for line in stdout.splitlines():
        match = ERROR.match(line)
        if match is None:
            assert ": note: " in line or line.startswith(("Found ", "Success")), line
            continue
        found[Path(match["file"]).name].append((int(match["line"]), match["code"], match["message"]))
    return found


def test_the_sample_service_has_no_error_and_no_any_from_our_api(
    reports: dict[str, list[tuple[int, str, str]]],
) -> None:
    problems = [
        f"service.py:{line}: {message} [{code}]"
        for line, code, message in reports["service.py"]
        if code != "misc" or leaks_any(message)
    ]
    assert problems == []


def test_misuse_of_the_api_is_reported(reports: dict[str, list[tuple[int, str, str]]]) -> None:
    source = (SAMPLE / "misuse.py").read_text().splitlines()
    expected = {
        (number, match[1])
        for number, line in enumerate(source, start=1)
        if (match := re.search(r"  # E: ([a-z-]+)$", line))
    }
    assert len(expected) >= 8
    # What follows from a reported error (the Any of a missing attribute) is not a finding of its own.
    reported = {(line, code) for line, code, message in reports["misuse.py"] if code != "misc"}
    assert reported == expected

"""The exported-members check every distribution's tests/test_exported_members.py runs.

httpx's tests/test_exported_members.py asserts that a module's ``__all__`` equals its public names. Our
public modules (no part of the dotted name starts with ``_``) often implement what they export and
import what they use, so "its public names" are read from the module's source:

- every name the module itself binds at top level (``def``, ``class``, assignment) without a leading
  ``_`` must be in ``__all__``; so must, in a package's ``__init__``, every name it imports from a private
  module (``from ._impl import X``: the package is the public face of its private modules, as in httpx)
  without an ``as _x`` alias;
- every name in ``__all__`` must be one of those, or a name imported from another of our public modules
  (a deliberate re-export, as the reference's import paths need), or a name the module's ``__getattr__``
  provides on first use; never a stdlib or third-party name (``Any``, ``Field``);
- ``__all__`` exists, has no duplicates, and each of its names can be read from the module.

Module loggers (``log = logging.getLogger(...)``) and type variables are plumbing, not API: they are
exempt. Names bound under ``if TYPE_CHECKING:`` do not exist at runtime and are ignored.

Usage (pytest's ``pythonpath`` in the root pyproject.toml puts tools/lib on sys.path)::

    from exported_members import export_problems, public_modules

    @pytest.mark.parametrize("module", public_modules(Path(__file__).parents[1] / "src"))
    def test_all_is_the_public_names(module: str) -> None:
        assert export_problems(module) == []

Stdlib only.
"""

from __future__ import annotations

import ast
import importlib
import logging
import typing
from collections.abc import Iterator
from pathlib import Path

__all__ = ["export_problems", "public_modules"]

_NAMESPACES = ("openmodule", "openmodule_test", "openmodule_commands")
_PLUMBING = (logging.Logger, typing.TypeVar, typing.ParamSpec, typing.TypeVarTuple)


def public_modules(src: Path) -> list[str]:
    """Dotted names of the public modules under a distribution's ``src/`` folder."""
    names = []
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and not any(p.startswith("_") for p in parts):
            names.append(".".join(parts))
    return names


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def _type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Top-level statements, looking into `if` and `try` blocks (but not `if TYPE_CHECKING:`)."""
    for node in body:
        if isinstance(node, ast.If):
            if not _type_checking(node):
                yield from _statements(node.body)
            yield from _statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                yield from _statements(block)
        else:
            yield node


def _targets(node: ast.expr) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub.id


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _names(module: str, source: str, is_package: bool) -> tuple[set[str], set[str]]:
    """(names the module defines or re-exports from private modules, names it imports from our public
    modules)."""
    own: set[str] = set()
    ours: set[str] = set()
    for node in _statements(ast.parse(source).body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                own.update(_targets(target))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            if not isinstance(node, ast.AnnAssign) or node.value is not None:
                own.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            source_module = _absolute(module, is_package, node)
            if source_module == "__future__" or not source_module.startswith(_NAMESPACES):
                continue
            for alias in node.names:
                name = alias.asname or alias.name
                # A package's __init__ is the public face of its private modules (httpx): what it takes
                # from them it re-exports. A plain module imports to use.
                (own if is_package and _is_private(source_module) else ours).add(name)
    own = {n for n in own if not n.startswith("_")}
    return own, ours


def export_problems(module_name: str) -> list[str]:
    """What is wrong with ``module_name``'s ``__all__`` (an empty list when it is exact)."""
    module = importlib.import_module(module_name)
    path = Path(module.__file__ or "")
    own, ours = _names(module_name, path.read_text(), path.name == "__init__.py")
    exported = getattr(module, "__all__", None)
    if exported is None:
        return [
            f"{module_name} has no __all__ (it should list: {sorted(n for n in own if not isinstance(getattr(module, n, None), _PLUMBING))})"
        ]
    problems = []
    if len(set(exported)) != len(exported):
        problems.append(f"{module_name}.__all__ has duplicates")
    lazy = set()
    for name in exported:
        if name not in vars(module):
            if not hasattr(module, name):
                problems.append(f"{module_name}.__all__ names {name!r}, which the module does not have")
                continue
            lazy.add(name)  # provided by the module's __getattr__ on first use
    public = {n for n in own if not isinstance(getattr(module, n, None), _PLUMBING)}
    missing = sorted(public - set(exported))
    if missing:
        problems.append(
            f"{module_name}: public but not in __all__ (export them or start them with _): {missing}"
        )
    foreign = sorted(set(exported) - own - ours - lazy)
    if foreign:
        problems.append(f"{module_name}.__all__ names what the module only imports from elsewhere: {foreign}")
    return problems

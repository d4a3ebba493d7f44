"""No new bare ``Any`` in public signatures (part of tools/check).

    python3 tools/lib/public_any.py            check; exit 1 on a new or a stale entry
    python3 tools/lib/public_any.py --list     print every bare Any in a public signature
    python3 tools/lib/public_any.py --update   rewrite the allow-list (only ever to drop entries)

The public API of a distribution is what the ``__all__`` of its public modules names (a module is public
when no part of its dotted name starts with ``_``). For every function, class and method reachable that
way (followed through ``from ._impl import X`` re-exports to where it is defined), each parameter and
return annotation is read from the source. An annotation is a *bare Any* when it is ``Any`` itself or a
union with ``Any`` in it (``Any | None``): it tells a service author, and their mypy, nothing.
``dict[str, Any]`` or ``Callable[..., Any]`` are not bare: their outer shape is real.

The bare Any that existed when the check was introduced are listed in tools/public-any-allowlist.txt, one
``module:qualname(parameter)`` or ``module:qualname() -> return`` per line. The list may only shrink:
a signature that is not listed fails the check (give it a real type: a Protocol, the settings type, a
TypeVar, ``object``), and so does a listed entry that no longer exists (remove the line; --update does).

Stdlib only (AST, nothing is imported): it runs before any virtual environment exists.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "packages"
ALLOWLIST = ROOT / "tools" / "public-any-allowlist.txt"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def public(self) -> bool:
        return not any(part.startswith("_") for part in self.name.split("."))

    def tree(self) -> ast.Module:
        return _parse(self.path)


_TREES: dict[Path, ast.Module] = {}


def _parse(path: Path) -> ast.Module:
    if path not in _TREES:
        _TREES[path] = ast.parse(path.read_text(), str(path))
    return _TREES[path]


def modules() -> dict[str, Module]:
    """Every module of every distribution's src/, by dotted name."""
    found: dict[str, Module] = {}
    for src in sorted(PACKAGES.glob("*/src")):
        for path in sorted(src.rglob("*.py")):
            parts = list(path.relative_to(src).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a module body, looking into `if` / `try` blocks (TYPE_CHECKING, optional imports)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body)
            for handler in node.handlers:
                yield from _top_level(handler.body)
            yield from _top_level(node.orelse)


def exported_names(module: Module) -> list[str]:
    """The literal ``__all__`` of a module ([] when it has none)."""
    for node in _top_level(module.tree().body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            value = node.value
            if isinstance(value, (ast.List, ast.Tuple)):
                return [
                    e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
    return []


Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def resolve(
    name: str, module: Module, index: dict[str, Module], seen: frozenset[tuple[str, str]] = frozenset()
) -> tuple[Module, Definition] | None:
    """Where ``name`` as seen from ``module`` is defined (a def or class in one of our modules)."""
    if (module.name, name) in seen:
        return None
    seen = seen | {(module.name, name)}
    found: tuple[Module, Definition] | None = None
    for node in _top_level(module.tree().body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            found = (module, node)  # the last definition wins, as at runtime
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) != name:
                    continue
                source = _absolute(module, node)
                target = index.get(f"{source}.{alias.name}") or index.get(source)
                if target is not None and target.name == f"{source}.{alias.name}":
                    continue  # a submodule, not a function or class
                if target is not None:
                    found = resolve(alias.name, target, index, seen) or found
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found = resolve(node.value.id, module, index, seen) or found
    return found


def _is_any(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(node, ast.Name):
        return node.id == "Any"
    if isinstance(node, ast.Attribute):
        return node.attr == "Any"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_any(node.left) or _is_any(node.right)
    if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
        outer = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
        if outer in ("Optional", "Union"):
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return any(_is_any(i) for i in items)
    return False


def _public_member(name: str) -> bool:
    return not name.startswith("_") or name in ("__init__", "__new__", "__call__", "__enter__", "__exit__")


def bare_any(qualname: str, node: Definition) -> Iterator[str]:
    """``qualname(param)`` / ``qualname() -> return`` for each bare Any in the node's signatures."""
    if isinstance(node, ast.ClassDef):
        for child in node.body:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _public_member(
                child.name
            ):
                yield from bare_any(f"{qualname}.{child.name}", child)
        return
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    params += [a for a in (args.vararg, args.kwarg) if a is not None]
    for arg in params:
        if arg.annotation is not None and _is_any(arg.annotation):
            prefix = "*" if arg is args.vararg else "**" if arg is args.kwarg else ""
            yield f"{qualname}({prefix}{arg.arg})"
    if node.returns is not None and _is_any(node.returns):
        yield f"{qualname}() -> return"


def findings() -> list[str]:
    """Every bare Any in a public signature, as ``defining.module:qualname(...)``, sorted."""
    index = modules()
    found: set[str] = set()
    for module in index.values():
        if not module.public:
            continue
        for name in exported_names(module):
            hit = resolve(name, module, index)
            if hit is None:
                continue  # a constant, a lazily imported name (__getattr__), a submodule
            where, node = hit
            found.update(f"{where.name}:{entry}" for entry in bare_any(node.name, node))
    return sorted(found)


def read_allowlist() -> list[str]:
    if not ALLOWLIST.exists():
        return []
    return [
        line.strip()
        for line in ALLOWLIST.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


ALLOWLIST_HEADER = """\
# Bare `Any` in public signatures that existed when tools/check started checking them
# (tools/lib/public_any.py). This list may only shrink: give a signature a real type and drop its line
# (`python3 tools/lib/public_any.py --update`); never add one.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="public_any.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print every bare Any in a public signature")
    parser.add_argument("--update", action="store_true", help="drop allow-list entries that are gone")
    args = parser.parse_args(argv)
    current = findings()
    if args.list:
        print("\n".join(current))
        return 0
    allowed = read_allowlist()
    new = sorted(set(current) - set(allowed))
    stale = sorted(set(allowed) - set(current))
    if args.update:
        if new:
            print("--update only drops entries; these are new (give them a real type):", file=sys.stderr)
            print("\n".join(f"  {n}" for n in new), file=sys.stderr)
            return 1
        ALLOWLIST.write_text(ALLOWLIST_HEADER + "".join(f"{e}\n" for e in allowed if e in set(current)))
        print(f"public_any: {len(stale)} entries dropped, {len(current)} left")
        return 0
    if new:
        print(f"public_any: {len(new)} new bare Any in public signatures (use a real type):")
        print("\n".join(f"  {n}" for n in new))
    if stale:
        print(f"public_any: {len(stale)} allow-list entries are gone (good): remove them with --update")
        print("\n".join(f"  {s}" for s in stale))
    if new or stale:
        return 1
    print(f"public_any: ok ({len(current)} allowed, none new)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

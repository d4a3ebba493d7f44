"""Layout rules of the monorepo (docs/development.md), checked on every run of tools/test.

- no distribution ships an __init__.py into a shared namespace folder, and no file is shipped twice;
- every shipped module is covered by a py.typed of its own package (never in a shared namespace folder);
- every pyproject version is the root VERSION; sibling requirements are pinned exactly to it;
- every openmodule* distribution installed in this venv comes from this repository, not an index;
- each distribution's [project].dependencies cover exactly what its shipped code imports;
- no import cycle among the modules of a distribution (imports inside functions count too);
- no reach for a module by its name (``sys.modules.get("openmodule...")``, ``importlib.import_module``) into
  a distribution that is not declared: a lower layer uses a hook that the higher one fills.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"
VERSION = (ROOT / "VERSION").read_text().strip()
NAMESPACES = ("openmodule", "openmodule/models", "openmodule/utils")
OUR_PREFIX = "openmodule"
# Import names that differ from the distribution name (others: normalized import name == dist name).
IMPORT_TO_DIST = {
    "yaml": "pyyaml",
    "zmq": "pyzmq",
    "dateutil": "python-dateutil",
    "sentry_sdk": "sentry-sdk",
    "sqlalchemy": "sqlalchemy",
    "alembic": "alembic",
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def req_name(req: str) -> str:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    assert m, f"cannot parse requirement {req!r}"
    return normalize(m.group(1))


def load(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


FOLDERS = sorted(p.parent for p in PACKAGES.glob("*/pyproject.toml"))
IDS = [f.name for f in FOLDERS]


def shipped_roots(folder: Path) -> list[Path]:
    """The package folders the wheel ships (hatch `packages`)."""
    data = load(folder)
    pkgs = (
        data.get("tool", {})
        .get("hatch", {})
        .get("build", {})
        .get("targets", {})
        .get("wheel", {})
        .get("packages")
    )
    assert pkgs, f"{folder.name}: [tool.hatch.build.targets.wheel] packages is not set"
    return [folder / p for p in pkgs]


def shipped_files(folder: Path) -> dict[str, Path]:
    """Installed relative path (e.g. openmodule/config/__init__.py) -> source file."""
    files: dict[str, Path] = {}
    for root in shipped_roots(folder):
        for f in root.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                files[str(f.relative_to(root.parent))] = f
    return files


def module_owners() -> dict[str, str]:
    """Dotted module or package name -> distribution that ships it (namespace folders excluded)."""
    owners: dict[str, str] = {}
    for folder in FOLDERS:
        dist = normalize(load(folder)["project"]["name"])
        for rel in shipped_files(folder):
            if not rel.endswith(".py"):
                continue
            parts = rel[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            owners[".".join(parts)] = dist
            # Parent packages that are not shared namespaces belong to the same distribution.
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if parent not in NAMESPACES:
                    owners.setdefault(".".join(parts[:i]), dist)
    return owners


def test_there_are_distributions() -> None:
    assert (PACKAGES / "settings" / "pyproject.toml").exists()
    assert len(FOLDERS) >= 1


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_no_init_in_shared_namespaces(folder: Path) -> None:
    files = shipped_files(folder)
    bad = [f"{ns}/__init__.py" for ns in NAMESPACES if f"{ns}/__init__.py" in files]
    assert bad == [], f"{folder.name} ships {bad}: shared namespace folders must stay PEP 420"


def test_no_file_is_shipped_twice() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for folder in FOLDERS:
        for rel in shipped_files(folder):
            if rel in seen:
                clashes.append(f"{rel}: {seen[rel]} and {folder.name}")
            seen[rel] = folder.name
    assert clashes == []


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_every_module_is_covered_by_a_typing_marker(folder: Path) -> None:
    # mypy treats an installed module as typed when a folder on its path below the shared namespaces holds
    # py.typed (PEP 561). A module directly in a namespace folder cannot be: the marker would be shared.
    files = shipped_files(folder)
    untyped = []
    for rel in files:
        if not rel.endswith(".py"):
            continue
        parents = rel.split("/")[:-1]
        own = ["/".join(parents[:i]) for i in range(1, len(parents) + 1)]
        own = [p for p in own if p not in NAMESPACES]
        if not any(f"{p}/py.typed" in files for p in own):
            untyped.append(rel)
    assert untyped == [], f"{folder.name}: modules without a py.typed in their package: {untyped}"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_version_is_the_root_version(folder: Path) -> None:
    assert load(folder)["project"]["version"] == VERSION


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_siblings_are_pinned_exactly(folder: Path) -> None:
    project = load(folder)["project"]
    names = {normalize(load(f)["project"]["name"]) for f in FOLDERS}
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    bad = []
    for req in reqs:
        if not req_name(req).startswith(OUR_PREFIX):
            continue
        if not re.fullmatch(rf"\s*openmodule(-[a-z0-9]+)*\s*==\s*{re.escape(VERSION)}\s*", req):
            bad.append(f"{req!r} is not pinned as '==' {VERSION}")
        elif req_name(req) not in names:
            bad.append(f"{req!r} is not a distribution of this repository")
    assert bad == []


def _installed_ours() -> list[importlib.metadata.Distribution]:
    found = {}
    for dist in importlib.metadata.distributions():
        name = normalize(dist.metadata["Name"] or "")
        if name.startswith(OUR_PREFIX):
            found[name] = dist
    return list(found.values())


def test_installed_openmodule_distributions_come_from_this_repository() -> None:
    ours = _installed_ours()
    if not ours:
        pytest.skip("no openmodule* distribution installed (running from sources, e.g. under Pants)")
    expected = {normalize(load(f)["project"]["name"]) for f in FOLDERS}
    bad = []
    for dist in ours:
        name = normalize(dist.metadata["Name"])
        raw = dist.read_text("direct_url.json")
        if raw is None:
            bad.append(f"{name}: no direct_url.json (installed from an index?)")
            continue
        url = json.loads(raw).get("url", "")
        path = Path(unquote(urlparse(url).path)) if url.startswith("file:") else None
        if path is None or not path.resolve().is_relative_to(ROOT):
            bad.append(f"{name}: installed from {url}, not from {ROOT}")
        elif name not in expected:
            bad.append(f"{name}: no longer a folder under packages/ (stale install)")
    assert bad == []


# ---- declared dependencies == imports ------------------------------------------------------------


def _is_optional(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """An import inside `try: ... except ImportError` (an optional feature) or `if TYPE_CHECKING:`."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and child in parent.body:
            for h in parent.handlers:
                names = [h.type] if not isinstance(h.type, ast.Tuple) else list(h.type.elts)
                if any(
                    isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names
                ):
                    return True
        if (
            isinstance(parent, ast.If)
            and "TYPE_CHECKING" in ast.unparse(parent.test)
            and child in parent.body
        ):
            return True
        child, parent = parent, parents.get(parent)
    return False


def imports_of(files: list[Path]) -> dict[str, tuple[bool, str]]:
    """Absolute imported module names -> (required, where). Relative imports are internal."""
    found: dict[str, tuple[bool, str]] = {}
    for f in files:
        tree = ast.parse(f.read_text(), str(f))
        parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            for n in names:
                required = not _is_optional(node, parents)
                where = f"{f.relative_to(ROOT)}:{node.lineno}"
                if n not in found or (required and not found[n][0]):
                    found[n] = (required, where)
    return found


def _third_party_dist(top: str) -> str:
    if top in IMPORT_TO_DIST:
        return IMPORT_TO_DIST[top]
    dists = importlib.metadata.packages_distributions().get(top)
    return normalize(dists[0]) if dists else normalize(top)


def used_distributions(files: list[Path], owners: dict[str, str]) -> dict[str, tuple[bool, str]]:
    used: dict[str, tuple[bool, str]] = {}
    for name, (required, where) in imports_of(files).items():
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        if top.startswith(OUR_PREFIX):
            parts = name.split(".")
            owner = next(
                (
                    owners[".".join(parts[:i])]
                    for i in range(len(parts), 0, -1)
                    if ".".join(parts[:i]) in owners
                ),
                None,
            )
            if owner is None:
                # `from openmodule.models import base` also yields the namespace `openmodule.models`.
                if "/".join(parts) in NAMESPACES:
                    continue
                owner = f"<nothing ships {name}>"
        else:
            owner = _third_party_dist(top)
        if owner not in used or (required and not used[owner][0]):
            used[owner] = (required, where)
    return used


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_dependencies_cover_imports_and_nothing_unused(folder: Path) -> None:
    project = load(folder)["project"]
    me = normalize(project["name"])
    declared = {req_name(r) for r in project.get("dependencies", [])}
    code = [f for f in shipped_files(folder).values() if f.suffix == ".py"]
    used = used_distributions(code, module_owners())
    used.pop(me, None)
    missing = sorted(
        f"{d} (imported at {where})" for d, (req, where) in used.items() if req and d not in declared
    )
    # A meta-package may list siblings it does not import; it says so in its pyproject.toml:
    # [tool.openmodule] unused-dependencies-ok = ["openmodule-x"]
    ok = {
        normalize(n)
        for n in load(folder).get("tool", {}).get("openmodule", {}).get("unused-dependencies-ok", [])
    }
    unused = sorted(declared - set(used) - ok)
    assert missing == [], f"{me} imports undeclared distributions: {missing}"
    assert unused == [], f"{me} declares dependencies its code never imports: {unused}"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_tests_import_only_declared_siblings(folder: Path) -> None:
    project = load(folder)["project"]
    me = normalize(project["name"])
    allowed = {req_name(r) for r in project.get("dependencies", [])}
    allowed |= {req_name(r) for r in project.get("optional-dependencies", {}).get("test", [])}
    tests = sorted((folder / "tests").rglob("*.py")) if (folder / "tests").is_dir() else []
    used = used_distributions(tests, module_owners())
    bad = sorted(
        f"{d} (imported at {where})"
        for d, (_, where) in used.items()
        if d.startswith(("openmodule", "<")) and d != me and d not in allowed
    )
    assert bad == [], f"{me}'s tests import siblings missing from its dependencies and `test` extra"


#: What every suite runs with (tools/check-isolation installs only this beside a distribution's own
#: dependencies and its `test` extra).
TEST_RUNNER = {"pytest"}
#: Helpers of the repository on pytest's pythonpath (root pyproject.toml), not distributions.
REPO_TEST_HELPERS = {normalize(f.stem) for f in (ROOT / "tools" / "lib").glob("*.py")}


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_tests_import_only_declared_third_party(folder: Path) -> None:
    project = load(folder)["project"]
    allowed = {req_name(r) for r in project.get("dependencies", [])} | TEST_RUNNER | REPO_TEST_HELPERS
    allowed |= {req_name(r) for r in project.get("optional-dependencies", {}).get("test", [])}
    tests = sorted((folder / "tests").rglob("*.py")) if (folder / "tests").is_dir() else []
    used = used_distributions(tests, module_owners())
    bad = sorted(
        f"{d} (imported at {where})"
        for d, (required, where) in used.items()
        if required and not d.startswith(("openmodule", "<")) and d not in allowed
    )
    assert bad == [], (
        f"{normalize(project['name'])}'s tests import third-party packages that neither its dependencies nor "
        f"its `test` extra declare: {bad}"
    )


# ---- no import cycle inside a distribution -------------------------------------------------------


def _module_name(rel: str) -> str:
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def internal_imports(folder: Path) -> dict[str, dict[str, str]]:
    """Module -> {module of the same distribution it imports: where}; imports inside functions included,
    ``if TYPE_CHECKING:`` blocks not. ``from pkg import name`` is an import of ``pkg.name`` when that is a
    module, else of ``pkg`` itself (its ``__init__``)."""
    files = {_module_name(rel): f for rel, f in shipped_files(folder).items() if rel.endswith(".py")}
    graph: dict[str, dict[str, str]] = {m: {} for m in files}
    for module, f in files.items():
        tree = ast.parse(f.read_text(), str(f))
        parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        package = module.split(".") if f.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package[: len(package) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for target in targets:
                if target in files and target != module and not _is_optional(node, parents):
                    graph[module].setdefault(target, f"{f.relative_to(ROOT)}:{node.lineno}")
    return graph


def import_cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """Every cycle as one path ``[a, b, ..., a]`` per strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    cycles = []
    for group in groups:
        # the shortest cycle through the group's first module, for the message (breadth-first)
        start = group[0]
        paths = {start: [start]}
        queue = [start]
        while queue:
            module = queue.pop(0)
            if module != start and start in graph[module]:
                cycles.append([*paths[module], start])
                break
            for target in sorted(graph[module]):
                if target in group and target not in paths:
                    paths[target] = [*paths[module], target]
                    queue.append(target)
    return cycles


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_no_import_cycle_inside_a_distribution(folder: Path) -> None:
    graph = internal_imports(folder)
    described = [
        " -> ".join(f"{a} ({graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False))
        + f" -> {cycle[-1]}"
        for cycle in import_cycles(graph)
    ]
    assert described == [], f"{folder.name} has import cycles (give its modules layers): {described}"


def test_the_cycle_check_sees_a_lazy_import() -> None:
    graph = {"a": {"b": "a.py:1"}, "b": {"c": "b.py:1"}, "c": {"a": "c.py:9 (inside a function)"}, "d": {}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
    assert import_cycles({"a": {"b": ""}, "b": {}}) == []


# ---- no upward reach by module name --------------------------------------------------------------


def _is_sys_modules(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "modules" and ast.unparse(node.value) == "sys"


def reached_by_name(tree: ast.AST) -> list[tuple[str, int]]:
    """Module names (constants) looked up without an import statement: ``sys.modules.get(name)``,
    ``sys.modules[name]``, ``name in sys.modules``, ``importlib.import_module(name)``, ``__import__(name)``."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        name: ast.AST | None = None
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("get", "pop")
                and _is_sys_modules(func.value)
            ):
                name = node.args[0] if node.args else None
            elif ast.unparse(func) in ("importlib.import_module", "import_module", "__import__"):
                name = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and _is_sys_modules(node.value):
            name = node.slice
        elif isinstance(node, ast.Compare) and any(_is_sys_modules(c) for c in node.comparators):
            name = node.left
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            found.append((name.value, node.lineno))
    return sorted(found, key=lambda item: item[1])


def test_reached_by_name_finds_the_lookups() -> None:
    tree = ast.parse(
        "import sys, importlib\n"
        "a = sys.modules.get('openmodule.utils.schema')\n"
        "b = getattr(sys.modules.get('openmodule.x'), 'Y', None)\n"
        "c = sys.modules['openmodule.core']\n"
        "d = 'openmodule.alert' in sys.modules\n"
        "e = importlib.import_module('openmodule.rpc')\n"
        "f = sys.modules.get(cls.__module__)\n"
    )
    assert reached_by_name(tree) == [
        ("openmodule.utils.schema", 2),
        ("openmodule.x", 3),
        ("openmodule.core", 4),
        ("openmodule.alert", 5),
        ("openmodule.rpc", 6),
    ]


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_no_reach_by_name_into_undeclared_distributions(folder: Path) -> None:
    project = load(folder)["project"]
    me = normalize(project["name"])
    allowed = {me} | {req_name(r) for r in project.get("dependencies", [])}
    owners = module_owners()
    bad = []
    for f in (f for f in shipped_files(folder).values() if f.suffix == ".py"):
        for name, line in reached_by_name(ast.parse(f.read_text(), str(f))):
            if not name.startswith(OUR_PREFIX):
                continue
            parts = name.split(".")
            owner = next(
                (
                    owners[".".join(parts[:i])]
                    for i in range(len(parts), 0, -1)
                    if ".".join(parts[:i]) in owners
                ),
                f"<nothing ships {name}>",
            )
            if owner not in allowed:
                bad.append(f"{f.relative_to(ROOT)}:{line} reaches {name} ({owner})")
    assert bad == [], (
        f"{me} reaches modules of distributions it does not declare (a higher layer?): {bad}. Give the lower "
        "layer a hook (a registry or Protocol) that the higher distribution fills when it is imported."
    )

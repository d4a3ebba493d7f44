"""Write (or --check) the README's distribution table from packages/*/pyproject.toml and src/ trees."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devenv

README = devenv.ROOT / "README.md"
START, END = "<!-- distribution-table:start -->", "<!-- distribution-table:end -->"
NAMESPACES = {"openmodule", "openmodule/models", "openmodule/utils"}


def import_paths(dist: devenv.Distribution) -> list[str]:
    src = dist.folder / "src"
    paths: list[str] = []
    for top in sorted(src.iterdir()):
        if top.name.startswith((".", "_")) or top.suffix not in ("", ".py"):
            continue
        stack = [top]
        while stack:
            node = stack.pop(0)
            rel = node.relative_to(src).with_suffix("").as_posix()
            if rel in NAMESPACES:
                stack.extend(
                    sorted(
                        c
                        for c in node.iterdir()
                        if not c.name.startswith(("_", ".")) and (c.is_dir() or c.suffix == ".py")
                    )
                )
            elif node.is_dir() or node.suffix == ".py":
                paths.append(rel.replace("/", "."))
    return paths


def table() -> str:
    import tomllib

    rows = ["| distribution | import path | what it is for | depends on |", "|---|---|---|---|"]
    for dist in sorted(devenv.distributions(), key=lambda d: d.name):
        project = tomllib.loads((dist.folder / "pyproject.toml").read_text())["project"]
        what = project.get("description", "").split(": ", 1)[-1]
        deps = [
            devenv.requirement_name(r).removeprefix("openmodule-")
            if devenv.is_ours(r)
            else devenv.requirement_name(r)
            for r in dist.dependencies
        ]
        paths = ", ".join(f"`{p}`" for p in import_paths(dist))
        rows.append(f"| {dist.name} | {paths} | {what} | {', '.join(deps) or '-'} |")
    return "\n".join(rows)


def render(text: str) -> str:
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main() -> int:
    text = README.read_text()
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("README.md distribution table is out of date: run python3 tools/lib/readme_table.py")
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

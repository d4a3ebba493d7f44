"""``openmodule_makemessages``: extract, merge and compile a service's translations, then open the editor.

Usage::

    openmodule_makemessages                               # in the service root (docker/ and src/)
    openmodule_makemessages --packages openmodule_access --no-translate
    openmodule_makemessages --hardware --languages en de fr
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openmodule_commands._gettext import (
    DEFAULT_OUT,
    CommandError,
    Layout,
    add_common_arguments,
    compile_mo,
    extract,
    open_editor,
    package_dir,
    po_header,
    run_main,
    run_tool,
)

__all__ = ["PROG", "check_service_root", "main", "makemessages", "package_po", "parser"]

PROG = "openmodule_makemessages"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Extract the translatable strings of a service into <out>/locale/translation.pot, merge them "
        "into <out>/locale/<lang>/LC_MESSAGES/translation.po for each language (with the .po files "
        "of --packages, which win), compile the .mo files and open the editor (poedit, or "
        "$OPENMODULE_PO_EDITOR). Exit status 0 on success, 1 on an error.",
    )
    p.add_argument("--out", default=DEFAULT_OUT, help=f"translation folder (default: {DEFAULT_OUT})")
    add_common_arguments(p)
    p.add_argument(
        "--force-dir",
        action="store_true",
        help="run even if the working directory does not look like a service root",
    )
    p.add_argument("--no-translate", action="store_true", help="do not open the editor")
    return p


def check_service_root(hardware: bool) -> None:
    required = ["docker"] if hardware else ["docker", "src"]
    missing = [name for name in required if not Path(name).is_dir()]
    if missing:
        raise CommandError(
            f"{Path.cwd()} does not look like the root of a {'hardware package' if hardware else 'service'} "
            f"(missing folder(s): {', '.join(missing)}): run this in the root or pass --force-dir"
        )


def package_po(name: str, lang: str) -> Path | None:
    path = package_dir(name) / "translation" / "locale" / lang / "LC_MESSAGES" / "translation.po"
    return path if path.is_file() else None


def makemessages(args: argparse.Namespace) -> int:
    if not args.force_dir:
        check_service_root(args.hardware)
    layout = Layout(Path(args.out), list(args.languages))
    for lang in layout.languages:
        layout.folder(lang).mkdir(parents=True, exist_ok=True)
    extract(layout, args.files, args.packages, args.hardware)
    template = layout.template.read_text(encoding="utf-8")
    for lang in layout.languages:
        po = layout.po(lang)
        if po.exists():
            run_tool(
                [
                    "msgmerge",
                    "--quiet",
                    "--update",
                    "--backup=none",
                    "--no-wrap",
                    "--sort-output",
                    str(po),
                    str(layout.template),
                ],
                what=f"merging the template into {po}",
            )
        else:
            po.write_text(po_header(lang) + template, encoding="utf-8")
        for name in args.packages:
            shipped = package_po(name, lang)
            if shipped is not None:
                # The package's file first: --use-first prefers its translation of a shared message.
                run_tool(
                    [
                        "msgcat",
                        "--use-first",
                        "--no-wrap",
                        "--sort-output",
                        "-o",
                        str(po),
                        str(shipped),
                        str(po),
                    ],
                    what=f"adding the translations of {name} to {po}",
                )
        compile_mo(layout, lang)
        print(f"{po}: updated")
    if not args.no_translate:
        for lang in layout.languages:
            open_editor(layout.po(lang))
            compile_mo(layout, lang)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openmodule_makemessages`` (also installed as ``openmodule_makemessage``)."""
    args = parser().parse_args(argv)
    return run_main(PROG, lambda: makemessages(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""``openmodule_translate``: open one language's .po file in the editor, then compile its .mo.

Usage::

    openmodule_translate --lang de
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openmodule_commands._gettext import DEFAULT_OUT, CommandError, Layout, compile_mo, open_editor, run_main

__all__ = ["PROG", "main", "parser", "translate"]

PROG = "openmodule_translate"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Open <dir>/locale/<lang>/LC_MESSAGES/translation.po in the editor (poedit, or "
        "$OPENMODULE_PO_EDITOR), then compile translation.mo. Exit status 0 on success, 1 on an error.",
    )
    p.add_argument("--dir", default=DEFAULT_OUT, help=f"translation folder (default: {DEFAULT_OUT})")
    p.add_argument("--lang", default="de", help="language to translate (default: de)")
    return p


def translate(args: argparse.Namespace) -> int:
    layout = Layout(Path(args.dir), [args.lang])
    po = layout.po(args.lang)
    if not po.is_file():
        raise CommandError(
            f"{po} does not exist: run openmodule_makemessages (with --languages ... {args.lang}) first"
        )
    open_editor(po)
    compile_mo(layout, args.lang)
    print(f"{layout.mo(args.lang)}: compiled")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openmodule_translate``."""
    args = parser().parse_args(argv)
    return run_main(PROG, lambda: translate(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

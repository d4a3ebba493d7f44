"""``openmodule_checktranslation``: fail (exit status 1) if the translations are out of date or incomplete.

Usage::

    openmodule_checktranslation                      # in CI, in the service root of a git checkout
    openmodule_checktranslation --ignore-keywords --languages en de fr
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from openmodule_commands._gettext import (
    DEFAULT_OUT,
    CommandError,
    Layout,
    add_common_arguments,
    extract,
    keywords,
    run_main,
)
from openmodule_commands._po import read_po

__all__ = ["PROG", "check", "main", "parser", "uncommitted"]

PROG = "openmodule_checktranslation"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Re-extract the template and fail if the translation folder then has uncommitted changes "
        "(template out of date: run openmodule_makemessages and commit), if a non-English language "
        "has empty translations, or if a keyword (__READABLE_NAME, __DESCRIPTION, __MODEL) is not "
        "translated. Prints 'Translations ok' and exits 0 otherwise; exit status 1 on a problem.",
    )
    p.add_argument("--dir", default=DEFAULT_OUT, help=f"translation folder (default: {DEFAULT_OUT})")
    add_common_arguments(p)
    p.add_argument("--ignore-keywords", action="store_true", help="do not check the keyword translations")
    return p


def uncommitted(folder: Path) -> list[str]:
    if shutil.which("git") is None:
        raise CommandError("git was not found: the check needs the service's git checkout")
    result = subprocess.run(
        ["git", "status", "--porcelain", "--", str(folder)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise CommandError(f"git status failed (is {Path.cwd()} a git checkout?):\n{result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line.strip()]


def check(args: argparse.Namespace) -> int:
    layout = Layout(Path(args.dir), list(args.languages))
    extract(layout, args.files, args.packages, args.hardware)
    problems: list[str] = []
    changed = uncommitted(layout.out)
    if changed:
        problems.append(
            "the translations are out of date (run openmodule_makemessages and commit):\n"
            + "\n".join(f"    {line}" for line in changed)
        )
    special = set(keywords(args.hardware))
    for lang in layout.languages:
        po = layout.po(lang)
        if not po.is_file():
            problems.append(f"{po} is missing (run openmodule_makemessages --languages ... {lang})")
            continue
        try:
            entries = read_po(po)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        present = {e.msgid for e in entries}
        empty = []
        for entry in entries:
            if entry.msgid in special:
                if not args.ignore_keywords and (not entry.translated or entry.msgstr[0] == entry.msgid):
                    problems.append(f"{po}: keyword {entry.msgid} is not translated")
                continue
            if lang != "en" and not entry.translated:
                empty.append(entry.msgid)
        if not args.ignore_keywords:
            for keyword in sorted(special - present):
                problems.append(f"{po}: keyword {keyword} is missing (run openmodule_makemessages)")
        if empty:
            problems.append(f"{po}: {len(empty)} empty translation(s): " + ", ".join(repr(m) for m in empty))
    if problems:
        raise CommandError("translation check failed:\n" + "\n".join(f"  - {p}" for p in problems))
    print("Translations ok")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``openmodule_checktranslation``."""
    args = parser().parse_args(argv)
    return run_main(PROG, lambda: check(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

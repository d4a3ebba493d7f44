"""Shared pieces of the translation commands: the locale layout, extraction and the gettext tools."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_OUT = "docker/translation"
DEFAULT_FILES = ["src/"]
DEFAULT_LANGUAGES = ["en", "de"]
SOURCE_SUFFIXES = (".py", ".cpp", ".h", ".hpp", ".c")
KEYWORDS = ["_", "__:1,2", "___:1", "_c:1c,2", "__c:1c,2,3"]
XGETTEXT_OPTIONS = ["--omit-head", "--from-code", "utf-8", "--no-location", "--sort-output", "--no-wrap"]
PACKAGE_DATA = "package_data.py"
SERVICE_KEYWORDS = ["__READABLE_NAME", "__DESCRIPTION"]
HARDWARE_KEYWORDS = [*SERVICE_KEYWORDS, "__MODEL"]
EDITOR_ENV = "OPENMODULE_PO_EDITOR"


class CommandError(Exception):
    """A failure the user can act on: printed as ``<command>: error: <message>``, exit status 1."""


def keywords(hardware: bool) -> list[str]:
    return HARDWARE_KEYWORDS if hardware else SERVICE_KEYWORDS


@dataclass
class Layout:
    """``<out>/locale/translation.pot`` and ``<out>/locale/<lang>/LC_MESSAGES/translation.po|.mo``."""

    out: Path
    languages: list[str] = field(default_factory=lambda: list(DEFAULT_LANGUAGES))

    @property
    def locale(self) -> Path:
        return self.out / "locale"

    @property
    def template(self) -> Path:
        return self.locale / "translation.pot"

    def folder(self, lang: str) -> Path:
        return self.locale / lang / "LC_MESSAGES"

    def po(self, lang: str) -> Path:
        return self.folder(lang) / "translation.po"

    def mo(self, lang: str) -> Path:
        return self.folder(lang) / "translation.mo"


def run_tool(args: Sequence[str], *, what: str) -> subprocess.CompletedProcess[str]:
    """Run a gettext tool; a missing tool or a failure becomes a ``CommandError`` with its output."""
    if shutil.which(args[0]) is None:
        raise CommandError(f"{args[0]} was not found: install GNU gettext (e.g. apt-get install gettext)")
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise CommandError(f"{what} failed ({shlex.join(args)}):\n{output}")
    return result


def package_dir(name: str) -> Path:
    """The folder of an importable python package (``--packages``)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise CommandError(f"Package {name!r} not found: install it in this environment or check the name")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin:
        return Path(spec.origin).parent
    raise CommandError(f"Package {name!r} not found: it has no folder on disk")


def source_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every .py/.cpp/.h/.hpp/.c file under ``paths`` (files are taken as they are), sorted."""
    found: set[Path] = set()
    for path in map(Path, paths):
        if path.is_file():
            found.add(path)
        elif path.is_dir():
            found.update(p for p in path.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES)
        else:
            raise CommandError(f"source folder or file {str(path)!r} does not exist (see --files)")
    return sorted(found)


@contextmanager
def package_data_file(hardware: bool) -> Iterator[Path]:
    """The temporary ``package_data.py`` with the special keywords, always deleted afterwards."""
    path = Path(PACKAGE_DATA)
    if path.exists():
        raise CommandError(
            f"{path.resolve()} exists: it is generated (and deleted) by this command; remove it"
        )
    path.write_text("".join(f'_("{keyword}")\n' for keyword in keywords(hardware)), encoding="utf-8")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def extract(layout: Layout, files: Sequence[str], packages: Sequence[str], hardware: bool) -> None:
    """Write the template ``translation.pot`` from the sources, the listed packages and the keywords."""
    package_dirs = [package_dir(name) for name in packages]
    sources: list[Path] = []
    if not hardware:
        sources = source_files([*files, *package_dirs])
    layout.locale.mkdir(parents=True, exist_ok=True)
    with package_data_file(hardware) as data:
        # A list file instead of arguments: a big service would exceed the command line limit.
        fd, name = tempfile.mkstemp(prefix="openmodule-files-", suffix=".txt")
        list_file = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(f"{p}\n" for p in [*sources, data]))
        try:
            result = run_tool(
                [
                    "xgettext",
                    *(f"--keyword={k}" for k in KEYWORDS),
                    *XGETTEXT_OPTIONS,
                    "--files-from",
                    str(list_file),
                    "-o",
                    str(layout.template),
                ],
                what="extracting messages (xgettext)",
            )
        finally:
            list_file.unlink(missing_ok=True)
    if "non-ASCII" in result.stderr:
        raise CommandError(
            "message ids must be ASCII (translate from English), xgettext reported:\n" + result.stderr.strip()
        )


def po_header(lang: str) -> str:
    # msgcat and msgfmt need the charset of non-ASCII translations; the template (--omit-head) has none.
    return (
        'msgid ""\nmsgstr ""\n'
        f'"Language: {lang}\\n"\n'
        '"MIME-Version: 1.0\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Content-Transfer-Encoding: 8bit\\n"\n'
        # Right for English, German and most European languages; poedit adjusts it for others.
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
    )


def compile_mo(layout: Layout, lang: str) -> None:
    run_tool(
        ["msgfmt", "-o", str(layout.mo(lang)), str(layout.po(lang))], what=f"compiling {layout.po(lang)}"
    )


def editor_command() -> list[str]:
    """The .po editor: ``$OPENMODULE_PO_EDITOR`` (a command line), else ``poedit``."""
    return shlex.split(os.environ.get(EDITOR_ENV) or "poedit")


def open_editor(path: Path) -> None:
    command = editor_command()
    if shutil.which(command[0]) is None:
        raise CommandError(
            f"the editor {command[0]!r} was not found: install poedit or set {EDITOR_ENV} to an editor command"
        )
    result = subprocess.run([*command, str(path)])
    if result.returncode != 0:
        raise CommandError(f"the editor {shlex.join(command)} exited with status {result.returncode}")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--files",
        nargs="+",
        default=DEFAULT_FILES,
        metavar="PATH",
        help="source folders/files to extract from (default: src/)",
    )
    parser.add_argument(
        "--packages",
        nargs="*",
        default=[],
        metavar="PACKAGE",
        help="python packages whose folders are scanned too and whose "
        "translation/locale .po files are merged in",
    )
    parser.add_argument(
        "--hardware",
        action="store_true",
        help="hardware package: only the keywords (__READABLE_NAME, __DESCRIPTION, __MODEL)",
    )
    parser.add_argument(
        "--languages", nargs="+", default=DEFAULT_LANGUAGES, metavar="LANG", help="languages (default: en de)"
    )


def run_main(prog: str, body: Callable[[], int]) -> int:
    """Call ``body()``; a ``CommandError`` is printed to stderr and becomes exit status 1."""
    try:
        code = body()
    except CommandError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)

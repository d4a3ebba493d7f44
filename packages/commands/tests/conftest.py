from __future__ import annotations

import gettext
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

# Console scripts: the venv's bin first (tools/test), then PATH (the Pants sandbox puts them there).
SCRIPT_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

FAKE_EDITOR = textwrap.dedent('''
    """A stand-in for poedit: fills the translations in $FAKE_TRANSLATIONS and logs its call."""
    import json, os, re, sys
    path = sys.argv[1]
    with open(os.environ["FAKE_EDITOR_LOG"], "a") as log:
        log.write(path + "\\n")
    translations = json.loads(os.environ.get("FAKE_TRANSLATIONS", "{}")).get(path.split("/locale/")[1][:2], {})
    text = open(path, encoding="utf-8").read()
    for msgid, msgstr in translations.items():
        text = re.sub(r'(msgid "%s"\\nmsgstr )"[^"\\n]*"' % re.escape(msgid), r'\\1"%s"' % msgstr, text)
    open(path, "w", encoding="utf-8").write(text)
    sys.exit(int(os.environ.get("FAKE_EDITOR_EXIT", "0")))
''')

SOURCE = textwrap.dedent("""
    print(_("Hello"))
    print(__("one car", "%d cars", 2))
    print(_c("menu", "Open"))
""")


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A service root (docker/, src/) with a few translatable strings."""
    root = tmp_path / "service"
    (root / "docker").mkdir(parents=True)
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "main.py").write_text(SOURCE)
    (root / "src" / "app" / "native.cpp").write_text('const char* s = _("From C++");\n')
    return root


@pytest.fixture
def package(tmp_path: Path) -> SimpleNamespace:
    """An importable package shipping its own German translation (for --packages)."""
    site = tmp_path / "site"
    pkg = site / "shared_pkg"
    (pkg / "translation" / "locale" / "de" / "LC_MESSAGES").mkdir(parents=True)
    (pkg / "__init__.py").write_text('_("Shared")\n_("Hello")\n')
    (pkg / "translation" / "locale" / "de" / "LC_MESSAGES" / "translation.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Hello"\nmsgstr "Hallo (Paket)"\n\nmsgid "Shared"\nmsgstr "Geteilt"\n',
        encoding="utf-8",
    )
    return SimpleNamespace(site=site, name="shared_pkg")


@pytest.fixture
def run(tmp_path: Path, package: SimpleNamespace) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a console script of this venv in ``cwd``; the editor is a logging stand-in for poedit."""
    editor = tmp_path / "fake_editor.py"
    editor.write_text(FAKE_EDITOR)
    log = tmp_path / "editor.log"

    def run_command(
        command: str, *args: str, cwd: Path, translations: dict | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        environ = dict(os.environ)
        environ.update(
            {
                "OPENMODULE_PO_EDITOR": f"{sys.executable} {editor}",
                "FAKE_EDITOR_LOG": str(log),
                "FAKE_TRANSLATIONS": json.dumps(translations or {}),
                # the sandbox's own PYTHONPATH (first-party sources under Pants) stays behind it
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(package.site), os.environ.get("PYTHONPATH")])
                ),
                "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.test",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.test",
            }
        )
        environ.update(env)
        script = shutil.which(command, path=SCRIPT_PATH)
        assert script, f"console script missing: {command}"
        return subprocess.run(
            [script, *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120
        )

    run_command.editor_log = log  # type: ignore[attr-defined]
    return run_command


@pytest.fixture
def catalog() -> Callable[[Path], gettext.GNUTranslations]:
    def load(mo: Path) -> gettext.GNUTranslations:
        with open(mo, "rb") as f:
            return gettext.GNUTranslations(f)

    return load


def locale(root: Path) -> Path:
    return root / "docker" / "translation" / "locale"


@pytest.fixture
def paths() -> Callable[[Path], Path]:
    return locale

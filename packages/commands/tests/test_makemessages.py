from __future__ import annotations

from pathlib import Path

import pytest

EXPECTED_POT = """msgid "From C++"
msgstr ""

msgid "Hello"
msgstr ""

msgctxt "menu"
msgid "Open"
msgstr ""

msgid "__DESCRIPTION"
msgstr ""

msgid "__READABLE_NAME"
msgstr ""

#, python-format
msgid "one car"
msgid_plural "%d cars"
msgstr[0] ""
msgstr[1] ""
"""


@pytest.mark.parametrize(
    "command",
    [
        "openmodule_makemessages",
        "openmodule_makemessage",
        "openmodule_translate",
        "openmodule_checktranslation",
    ],
)
def test_help(run, tmp_path: Path, command: str) -> None:
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: ")
    assert "Exit status" in result.stdout or "exit" in result.stdout.lower()


def test_unknown_option_is_a_usage_error(run, tmp_path: Path) -> None:
    result = run("openmodule_makemessages", "--nope", cwd=tmp_path)
    assert result.returncode == 2
    assert "unrecognized arguments: --nope" in result.stderr


def test_extracts_merges_and_compiles(run, service: Path, paths, catalog) -> None:
    result = run("openmodule_makemessages", "--no-translate", cwd=service)
    assert result.returncode == 0, result.stderr
    locale = paths(service)
    assert (locale / "translation.pot").read_text() == EXPECTED_POT
    for lang in ("en", "de"):
        po = (locale / lang / "LC_MESSAGES" / "translation.po").read_text()
        assert f'"Language: {lang}\\n"' in po and "charset=UTF-8" in po
        assert po.endswith(EXPECTED_POT)
        assert catalog(locale / lang / "LC_MESSAGES" / "translation.mo").gettext("Hello") == "Hello"
    assert sorted(p.name for p in service.iterdir()) == ["docker", "src"]  # package_data.py is gone
    assert run.editor_log.exists() is False


def test_rerun_keeps_translations_and_adds_new_strings(run, service: Path, paths, catalog) -> None:
    assert run("openmodule_makemessages", "--no-translate", cwd=service).returncode == 0
    po = paths(service) / "de" / "LC_MESSAGES" / "translation.po"
    po.write_text(po.read_text().replace('msgid "Hello"\nmsgstr ""', 'msgid "Hello"\nmsgstr "Grüß dich"'))
    (service / "src" / "app" / "more.py").write_text('_("Goodbye")\n')
    result = run("openmodule_makemessages", "--no-translate", cwd=service)
    assert result.returncode == 0, result.stderr
    text = po.read_text()
    assert 'msgid "Hello"\nmsgstr "Grüß dich"' in text
    assert 'msgid "Goodbye"\nmsgstr ""' in text
    assert catalog(po.with_suffix(".mo")).gettext("Hello") == "Grüß dich"


def test_package_translations_are_merged_and_preferred(run, service: Path, package, paths, catalog) -> None:
    assert run("openmodule_makemessages", "--no-translate", cwd=service).returncode == 0
    po = paths(service) / "de" / "LC_MESSAGES" / "translation.po"
    po.write_text(
        po.read_text().replace('msgid "Hello"\nmsgstr ""', 'msgid "Hello"\nmsgstr "Hallo (Dienst)"')
    )
    result = run("openmodule_makemessages", "--no-translate", "--packages", package.name, cwd=service)
    assert result.returncode == 0, result.stderr
    assert 'msgid "Shared"' in (paths(service) / "translation.pot").read_text()
    de = catalog(po.with_suffix(".mo"))
    assert de.gettext("Hello") == "Hallo (Paket)"
    assert de.gettext("Shared") == "Geteilt"
    assert catalog(paths(service) / "en" / "LC_MESSAGES" / "translation.mo").gettext("Shared") == "Shared"


def test_missing_package(run, service: Path) -> None:
    result = run("openmodule_makemessages", "--no-translate", "--packages", "no_such_pkg", cwd=service)
    assert result.returncode == 1
    assert "openmodule_makemessages: error: Package 'no_such_pkg' not found" in result.stderr


def test_refuses_to_run_outside_of_a_service_root(run, service: Path) -> None:
    result = run("openmodule_makemessages", "--no-translate", cwd=service / "src")
    assert result.returncode == 1
    assert "does not look like the root of a service (missing folder(s): docker, src)" in result.stderr
    assert not (service / "src" / "docker").exists()
    forced = run(
        "openmodule_makemessages", "--no-translate", "--force-dir", "--files", ".", cwd=service / "src"
    )
    assert forced.returncode == 0, forced.stderr
    assert (
        'msgid "Hello"'
        in (service / "src" / "docker" / "translation" / "locale" / "translation.pot").read_text()
    )


def test_non_ascii_msgids_abort(run, service: Path, paths) -> None:
    (service / "src" / "app" / "bad.py").write_text('_("Grüße")\n', encoding="utf-8")
    result = run("openmodule_makemessages", "--no-translate", cwd=service)
    assert result.returncode == 1
    assert "message ids must be ASCII" in result.stderr and "Grüße" in result.stderr
    assert not (service / "package_data.py").exists()
    assert not (paths(service) / "de" / "LC_MESSAGES" / "translation.po").exists()


def test_hardware_extracts_only_the_keywords(run, tmp_path: Path, paths) -> None:
    root = tmp_path / "hardware"
    (root / "docker").mkdir(parents=True)
    result = run(
        "openmodule_makemessages", "--no-translate", "--hardware", "--languages", "en", "de", "fr", cwd=root
    )
    assert result.returncode == 0, result.stderr
    assert (paths(root) / "translation.pot").read_text() == (
        'msgid "__DESCRIPTION"\nmsgstr ""\n\nmsgid "__MODEL"\nmsgstr ""\n\nmsgid "__READABLE_NAME"\nmsgstr ""\n'
    )
    assert sorted(p.name for p in paths(root).iterdir()) == ["de", "en", "fr", "translation.pot"]


def test_opens_the_editor_for_each_language_and_compiles_its_work(run, service: Path, paths, catalog) -> None:
    result = run("openmodule_makemessages", cwd=service, translations={"de": {"Hello": "Hallo"}})
    assert result.returncode == 0, result.stderr
    locale = paths(service)
    assert run.editor_log.read_text().splitlines() == [
        str(Path("docker/translation/locale/en/LC_MESSAGES/translation.po")),
        str(Path("docker/translation/locale/de/LC_MESSAGES/translation.po")),
    ]
    assert catalog(locale / "de" / "LC_MESSAGES" / "translation.mo").gettext("Hello") == "Hallo"


def test_missing_editor_is_an_error(run, service: Path) -> None:
    result = run("openmodule_makemessages", cwd=service, OPENMODULE_PO_EDITOR="no-such-editor-xyz")
    assert result.returncode == 1
    assert (
        "the editor 'no-such-editor-xyz' was not found: install poedit or set OPENMODULE_PO_EDITOR"
        in result.stderr
    )

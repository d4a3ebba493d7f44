from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DE = {
    "Hello": "Hallo",
    "From C++": "Aus C++",
    "Open": "Öffnen",
    "__READABLE_NAME": "Dienst",
    "__DESCRIPTION": "Beschreibung",
}


def fill(po: Path, translations: dict[str, str]) -> None:
    text = po.read_text(encoding="utf-8")
    for msgid, msgstr in translations.items():
        text = text.replace(f'msgid "{msgid}"\nmsgstr ""', f'msgid "{msgid}"\nmsgstr "{msgstr}"')
    text = text.replace('msgstr[0] ""\nmsgstr[1] ""', 'msgstr[0] "ein Auto"\nmsgstr[1] "%d Autos"')
    po.write_text(text, encoding="utf-8")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def translated(run, service: Path, paths) -> Path:
    """A git checkout of the service with complete, committed translations."""
    assert run("openmodule_makemessages", "--no-translate", cwd=service).returncode == 0
    fill(paths(service) / "de" / "LC_MESSAGES" / "translation.po", DE)
    fill(
        paths(service) / "en" / "LC_MESSAGES" / "translation.po",
        {"__READABLE_NAME": "Service", "__DESCRIPTION": "Description"},
    )
    git(service, "init", "-q")
    git(service, "add", ".")
    git(service, "commit", "-q", "-m", "translations")
    return service


def test_translate_opens_the_editor_then_compiles(run, service: Path, paths, catalog) -> None:
    assert run("openmodule_makemessages", "--no-translate", cwd=service).returncode == 0
    result = run("openmodule_translate", cwd=service, translations={"de": {"Hello": "Servus"}})
    assert result.returncode == 0, result.stderr
    assert run.editor_log.read_text().splitlines() == [
        "docker/translation/locale/de/LC_MESSAGES/translation.po"
    ]
    assert catalog(paths(service) / "de" / "LC_MESSAGES" / "translation.mo").gettext("Hello") == "Servus"
    result = run(
        "openmodule_translate",
        "--lang",
        "en",
        "--dir",
        "docker/translation",
        cwd=service,
        translations={"en": {"Hello": "Hi"}},
    )
    assert result.returncode == 0, result.stderr
    assert catalog(paths(service) / "en" / "LC_MESSAGES" / "translation.mo").gettext("Hello") == "Hi"


def test_translate_errors(run, service: Path) -> None:
    result = run("openmodule_translate", "--lang", "fr", cwd=service)
    assert result.returncode == 1
    assert "translation.po does not exist: run openmodule_makemessages" in result.stderr
    assert run("openmodule_makemessages", "--no-translate", cwd=service).returncode == 0
    failed = run("openmodule_translate", cwd=service, FAKE_EDITOR_EXIT="3")
    assert failed.returncode == 1
    assert "exited with status 3" in failed.stderr


def test_complete_translations_are_ok(run, translated: Path) -> None:
    result = run("openmodule_checktranslation", cwd=translated)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Translations ok\n"
    assert not (translated / "package_data.py").exists()


def test_out_of_date_template_fails(run, translated: Path) -> None:
    (translated / "src" / "app" / "new.py").write_text('_("Brand new")\n')
    result = run("openmodule_checktranslation", cwd=translated)
    assert result.returncode == 1
    assert "the translations are out of date (run openmodule_makemessages and commit)" in result.stderr
    assert "M docker/translation/locale/translation.pot" in result.stderr


def test_empty_translations_fail_for_other_languages_than_english(run, translated: Path, paths) -> None:
    po = paths(translated) / "de" / "LC_MESSAGES" / "translation.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Hallo"', 'msgstr ""'), encoding="utf-8")
    git(translated, "commit", "-q", "-am", "lost one")
    result = run("openmodule_checktranslation", cwd=translated)
    assert result.returncode == 1
    assert (
        f"{Path('docker/translation/locale/de/LC_MESSAGES/translation.po')}: 1 empty translation(s): 'Hello'"
        in result.stderr
    )
    assert "en/LC_MESSAGES" not in result.stderr  # English may fall back to the msgid


def test_untranslated_keywords_fail_unless_ignored(run, translated: Path, paths) -> None:
    po = paths(translated) / "en" / "LC_MESSAGES" / "translation.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Service"', 'msgstr "__READABLE_NAME"'))
    git(translated, "commit", "-q", "-am", "keyword")
    result = run("openmodule_checktranslation", cwd=translated)
    assert result.returncode == 1
    assert "en/LC_MESSAGES/translation.po: keyword __READABLE_NAME is not translated" in result.stderr
    ignored = run("openmodule_checktranslation", "--ignore-keywords", cwd=translated)
    assert ignored.returncode == 0, ignored.stderr
    assert ignored.stdout == "Translations ok\n"


def test_hardware_checks_the_model_keyword(run, translated: Path) -> None:
    result = run("openmodule_checktranslation", "--hardware", cwd=translated)
    assert result.returncode == 1
    assert "out of date" in result.stderr  # the template lost the sources and gained __MODEL
    assert "keyword __MODEL is missing" in result.stderr


def test_missing_language_and_no_git(run, translated: Path, service: Path) -> None:
    result = run("openmodule_checktranslation", "--languages", "en", "de", "fr", cwd=translated)
    assert result.returncode == 1
    assert "fr/LC_MESSAGES/translation.po is missing" in result.stderr
    shutil.rmtree(translated / ".git")
    result = run("openmodule_checktranslation", cwd=translated)
    assert result.returncode == 1
    assert "git status failed (is " in result.stderr


def test_the_reference_entry_point_functions(run, service: Path, paths, catalog) -> None:
    # a console script generated for "openmodule_commands:<function>" calls it without arguments
    def call(function: str, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        code = (
            "import sys, openmodule_commands as c; "
            f"sys.argv = ['{function}', *sys.argv[1:]]; sys.exit(c.{function}())"
        )
        return run(sys.executable, "-c", code, *args, **kwargs)

    result = call("openmodule_makemessages", "--no-translate", cwd=service)
    assert result.returncode == 0, result.stderr
    assert (paths(service) / "translation.pot").is_file()
    result = call("openmodule_translate", cwd=service, translations={"de": {"Hello": "Grüß Gott"}})
    assert result.returncode == 0, result.stderr
    assert catalog(paths(service) / "de" / "LC_MESSAGES" / "translation.mo").gettext("Hello") == "Grüß Gott"
    result = call("openmodule_check_translation", cwd=service)  # not a git checkout, untranslated strings
    assert result.returncode == 1
    assert "Translations ok" not in result.stdout

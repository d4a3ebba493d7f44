"""openmodule_commands: gettext translation commands for openmodule services.

Console scripts: ``openmodule_makemessages`` (alias ``openmodule_makemessage``), ``openmodule_translate``,
``openmodule_checktranslation``. ``openmodule_makemigration`` ships with openmodule-database.

Usage::

    $ openmodule_makemessages --no-translate
    $ openmodule_checktranslation
"""

from __future__ import annotations

from openmodule_commands._gettext import CommandError

__all__ = ["CommandError", "openmodule_check_translation", "openmodule_makemessages", "openmodule_translate"]


# The functions the reference's console scripts point at (``openmodule_commands:openmodule_makemessages``, ...):
# setups and wrappers written against those entry points keep working. Arguments come from ``sys.argv``
# unless ``argv`` is given; the return value is the exit status.


def openmodule_makemessages(argv: list[str] | None = None) -> int:
    """``openmodule_makemessages``: extract, merge and compile the service's translations.

    Usage: ``sys.exit(openmodule_makemessages(["--no-translate"]))``
    """
    from openmodule_commands import makemessages

    return makemessages.main(argv)


def openmodule_translate(argv: list[str] | None = None) -> int:
    """``openmodule_translate``: edit one language's ``.po`` file, then compile it.

    Usage: ``sys.exit(openmodule_translate(["--lang", "de"]))``
    """
    from openmodule_commands import translate

    return translate.main(argv)


def openmodule_check_translation(argv: list[str] | None = None) -> int:
    """``openmodule_checktranslation``: fail when the translations are out of date or incomplete.

    Usage: ``sys.exit(openmodule_check_translation())``
    """
    from openmodule_commands import checktranslation

    return checktranslation.main(argv)

"""openmodule_commands: gettext translation commands for openmodule services.

Console scripts: ``openmodule_makemessages`` (alias ``openmodule_makemessage``), ``openmodule_translate``,
``openmodule_checktranslation``. ``openmodule_makemigration`` ships with openmodule-database.

Usage::

    $ openmodule_makemessages --no-translate
    $ openmodule_checktranslation
"""

from __future__ import annotations

from openmodule_commands._gettext import CommandError

__all__ = ["CommandError"]

from __future__ import annotations

import types

import openmodule_commands
from openmodule_commands._po import read_po


def test_all_is_complete() -> None:
    # Submodules appear as attributes once imported (by another test): they are not names of the package.
    public = {
        n
        for n, v in vars(openmodule_commands).items()
        if not n.startswith("_") and n != "annotations" and not isinstance(v, types.ModuleType)
    }
    assert set(openmodule_commands.__all__) == public


def test_po_reader(tmp_path) -> None:
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n#, fuzzy\nmsgctxt "c"\nmsgid "a"\nmsgstr ""\n"b\\"q"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] ""\n\n#~ msgid "old"\n#~ msgstr ""\n'
    )
    entries = read_po(po)
    assert [(e.msgctxt, e.msgid, e.msgid_plural, e.msgstr, e.fuzzy, e.translated) for e in entries] == [
        ("c", "a", None, ['b"q'], True, True),
        (None, "one", "many", ["eins", ""], False, False),
    ]

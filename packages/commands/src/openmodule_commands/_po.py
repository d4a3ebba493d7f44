"""A small reader of .po files: enough to find untranslated entries."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr)


def _unquote(text: str) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"expected a quoted string, got {text!r}")
    # PO strings use C escapes, a subset of Python's.
    return str(ast.literal_eval(text))


def read_po(path: Path) -> list[Entry]:
    """The entries of ``path`` without the header and obsolete (``#~``) entries."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    fuzzy = False

    def finish() -> None:
        nonlocal current
        if current is not None and current.msgid:
            entries.append(current)
        current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        try:
            if not line:
                continue
            if line.startswith("#"):
                if line.startswith("#,") and "fuzzy" in line:
                    finish()
                    fuzzy = True
                continue
            keyword, _, rest = line.partition(" ")
            if line.startswith('"'):
                if current is None or target is None:
                    raise ValueError("a continuation line outside of an entry")
                name, index = target
                if name == "msgstr":
                    current.msgstr[index] += _unquote(line)
                else:
                    setattr(current, name, (getattr(current, name) or "") + _unquote(line))
            elif keyword in ("msgctxt", "msgid"):
                if keyword == "msgctxt" or current is None or current.msgstr:
                    finish()
                    current = Entry(fuzzy=fuzzy)
                    fuzzy = False
                setattr(current, keyword, _unquote(rest))
                target = (keyword, 0)
            elif keyword == "msgid_plural" and current is not None:
                current.msgid_plural = _unquote(rest)
                target = ("msgid_plural", 0)
            elif keyword.startswith("msgstr") and current is not None:
                current.msgstr.append(_unquote(rest))
                target = ("msgstr", len(current.msgstr) - 1)
            else:
                raise ValueError(f"unexpected {keyword!r}")
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"{path}:{number}: cannot read the .po file: {exc}") from exc
    finish()
    return entries

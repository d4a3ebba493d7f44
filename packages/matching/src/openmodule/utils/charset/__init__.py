"""Character-set helpers for license plates: clean a text down to an allowed alphabet.

Usage::

    from openmodule.utils.charset import CharsetConverter, legacy_lpr_charset
    CharsetConverter(legacy_lpr_charset).clean("g-öq 12")  # "G0012"
"""

from __future__ import annotations

import string

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Charset", "CharsetConverter", "Replacement", "full_lpr_charset", "legacy_lpr_charset"]


class Replacement(BaseModel):
    """One substring replacement, ``{"from": "Ö", "to": "0"}`` on the wire; both sides are upper-cased.

    Usage: ``Replacement(**{"from": "ö", "to": "0"})`` or ``_r("ö", "0")``
    """

    # assignment re-validates, so ``replacement.c_from = "ö"`` is upper-cased like the constructor's value
    model_config = ConfigDict(populate_by_name=True, validate_assignment=True)

    c_from: str = Field(alias="from")
    c_to: str = Field(alias="to")

    @field_validator("c_from", "c_to")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class Charset(BaseModel):
    """An alphabet (``allowed``, upper-cased) and the replacements applied before filtering to it.

    Usage: ``Charset(allowed="0123456789ABC", replacements=[_r("-", "")])``
    """

    # assignment re-validates: ``charset.allowed = "abc"`` stores "ABC", as the constructor would
    model_config = ConfigDict(validate_assignment=True)

    replacements: list[Replacement] = []
    allowed: str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZÄÜÖ_"

    @field_validator("allowed")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class CharsetConverter:
    """Cleans texts with a :class:`Charset`: upper-case, replacements in order, drop what is not allowed.

    Usage: ``CharsetConverter(full_lpr_charset).clean("w-12 ab")  # "W12AB"``
    """

    def __init__(self, charset: Charset) -> None:
        self.charset = charset
        # a set makes the per-character membership test O(1) for long alphabets; rebuilt when the charset's
        # ``allowed`` is assigned a new value after this converter was made
        self._allowed_text = charset.allowed
        self._allowed = frozenset(charset.allowed)

    def clean(self, text: str) -> str:
        """Return ``text`` upper-cased, with the replacements applied and every other character removed."""
        charset = self.charset
        if charset.allowed is not self._allowed_text:
            self._allowed_text = charset.allowed
            self._allowed = frozenset(charset.allowed)
        text = text.upper()
        for replacement in charset.replacements:
            if replacement.c_from:
                text = text.replace(replacement.c_from, replacement.c_to)
        return "".join(c for c in text if c in self._allowed)


_LETTERS = string.ascii_uppercase


def _r(c_from: str, c_to: str) -> Replacement:
    return Replacement.model_validate({"from": c_from, "to": c_to})


legacy_lpr_charset = Charset(
    allowed=string.digits + _LETTERS.replace("O", "").replace("Q", ""),
    replacements=[
        _r("Ä", "A"),
        _r("Ü", "U"),
        _r("Ö", "O"),
        _r("O", "0"),
        _r("Q", "0"),
    ],
)
"""The alphabet of old LPR cameras: no ``O``/``Q`` (read as ``0``), umlauts folded (``Ö`` ends as ``0``)."""

full_lpr_charset = Charset(
    allowed=string.digits + _LETTERS + "ÄÜÖ",
    replacements=[
        _r(" ", ""),
        _r("-", ""),
        _r(".", ""),
    ],
)
"""All letters, digits and ``ÄÜÖ``; spaces, ``-`` and ``.`` removed."""

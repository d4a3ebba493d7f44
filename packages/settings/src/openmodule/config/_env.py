"""Typed environment-variable readers.

The names ``int``, ``float`` and ``bool`` deliberately shadow the builtins inside ``openmodule.config``
(services call ``config.int("PORT", 80)``), so this module keeps the builtins under private aliases.
"""

from __future__ import annotations

import builtins
import os
from typing import overload

_int = builtins.int
_float = builtins.float
_bool = builtins.bool

_STRING_STRIP = "\"' \r\n\t"
_BOOL_STRIP = "'\" .,;-_"
_TRUE_VALUES = frozenset({"T", "TRUE", "1", "Y", "YES", "J", "JA", "ON"})


@overload
def get(key: str) -> str: ...
@overload
def get(key: str, default: str | None) -> str | None: ...
def get(key: str, default: str | None = "") -> str | None:
    """The raw environment value, or ``default``."""
    return os.environ.get(key, default)


def string(key: str, default: str = "") -> str:
    """The environment value with quotes and whitespace stripped from both ends, or ``default``."""
    assert isinstance(default, str), f"default of string({key!r}) must be a str, got {type(default).__name__}"
    return os.environ.get(key, default).strip(_STRING_STRIP)


def int(key: str, default: builtins.int = 0) -> builtins.int:
    """The environment value parsed as an integer; ``default`` when missing or unparsable."""
    assert isinstance(default, _int) and not isinstance(default, _bool), (
        f"default of int({key!r}) must be an int, got {type(default).__name__}"
    )
    try:
        return _int(os.environ[key])
    except (KeyError, ValueError):
        return default


def float(key: str, default: builtins.float | builtins.int = 0.0) -> builtins.float:
    """The environment value parsed as a float; ``default`` when missing or unparsable."""
    assert isinstance(default, (_int, _float)) and not isinstance(default, _bool), (
        f"default of float({key!r}) must be a number, got {type(default).__name__}"
    )
    try:
        return _float(os.environ[key])
    except (KeyError, ValueError):
        return _float(default)


def bool(key: str, default: builtins.bool = False) -> builtins.bool:
    """True for T/TRUE/1/Y/YES/J/JA/ON (any case), ``default`` when empty, otherwise False."""
    assert isinstance(default, _bool), (
        f"default of bool({key!r}) must be a bool, got {type(default).__name__}"
    )
    value = os.environ.get(key, "").upper().strip(_BOOL_STRIP)
    if not value:
        return default
    return value in _TRUE_VALUES

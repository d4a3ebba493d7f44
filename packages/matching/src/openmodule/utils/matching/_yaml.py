"""Plate schemes: one ``<SCHEME>-<VERSION>.yml`` file each, converting raw plates to a comparable form."""

from __future__ import annotations

import logging
import os
import string
import unicodedata
from collections.abc import Mapping
from typing import Any

import yaml as _pyyaml

log = logging.getLogger("openmodule.utils.matching")

SEPARATORS = frozenset(" -_.:")
"""Characters treated as separators by ``kept_separators``."""

_KEPT_SEPARATORS = ("NONE", "ALL", "FIRST", "LAST")


class PlateYamlError(ValueError):
    """A scheme file whose name or content cannot be used; the message names the file and the reason."""


def parse_scheme_filename(filename: str | os.PathLike[str]) -> tuple[str, int]:
    """``"/x/DEFAULT-10.yml"`` -> ``("DEFAULT", 10)``; raises :class:`PlateYamlError` for other names.

    Usage: ``scheme, version = parse_scheme_filename("A-3.yml")``
    """
    base = os.path.basename(os.fspath(filename))
    stem = base[: -len(".yml")] if base.endswith(".yml") else base
    parts = stem.replace(".", "-").split("-")
    if len(parts) < 2 or not parts[0]:
        raise PlateYamlError(f"{filename}: scheme file names look like <SCHEME>-<VERSION>.yml")
    try:
        version = int(parts[1])
    except ValueError:
        raise PlateYamlError(f"{filename}: the version part {parts[1]!r} is not an integer") from None
    return parts[0], version


def _strip_accents(char: str) -> str:
    return unicodedata.normalize("NFD", char).encode("ascii", "ignore").decode("ascii")


class PlateYaml:
    """One plate scheme (``allowed``, ``exactitude``, ``kept_separators``, ``replacements``).

    ``content`` (a mapping) is used instead of reading ``filename``; the scheme and version always come from
    the file name. An invalid name or content raises :class:`PlateYamlError` (the selector logs and skips it).

    Usage: ``PlateYaml("DEFAULT-10.yml", {"allowed": "0123456789ABC", "exactitude": 0.6}).convert("a-1")``
    """

    scheme: str
    version: int
    exactitude: float
    valid_chars: str
    kept_separators: str
    replacements: list[tuple[str, str]]

    def __init__(self, filename: str | os.PathLike[str], content: Mapping[str, Any] | None = None) -> None:
        self.filename = os.fspath(filename)
        self.version = -1
        self.scheme, version = parse_scheme_filename(self.filename)
        if content is None:
            try:
                with open(self.filename, "rb") as f:
                    content = _pyyaml.safe_load(f)
            except OSError as exc:
                raise PlateYamlError(f"{self.filename}: cannot be read: {exc}") from exc
            except _pyyaml.YAMLError as exc:
                raise PlateYamlError(f"{self.filename}: not valid YAML: {exc}") from exc
        if not isinstance(content, Mapping):
            raise PlateYamlError(f"{self.filename}: expected a mapping with 'allowed' and 'exactitude'")
        self._load(content)
        self.version = version

    def _load(self, content: Mapping[str, Any]) -> None:
        allowed = content.get("allowed")
        if not isinstance(allowed, str | int) or isinstance(allowed, bool) or str(allowed) == "":
            raise PlateYamlError(f"{self.filename}: 'allowed' must be a non-empty string")
        self.valid_chars = str(allowed).upper()
        try:
            self.exactitude = float(content["exactitude"])
        except KeyError:
            raise PlateYamlError(f"{self.filename}: 'exactitude' is required") from None
        except (TypeError, ValueError):
            raise PlateYamlError(f"{self.filename}: 'exactitude' must be a number") from None
        kept = content.get("kept_separators") or "NONE"
        self.kept_separators = str(kept).upper()
        if self.kept_separators not in _KEPT_SEPARATORS:
            log.warning("%s: unknown kept_separators %r, separators are removed", self.filename, kept)
        raw = content.get("replacements") or []
        if not isinstance(raw, list):
            raise PlateYamlError(f"{self.filename}: 'replacements' must be a list of {{from, to}}")
        self.replacements = []
        for entry in raw:
            if not isinstance(entry, Mapping):
                log.warning("%s: replacement %r is not a mapping, skipped", self.filename, entry)
                continue
            c_from, c_to = entry.get("from"), entry.get("to")
            if c_from is None or c_from == "" or c_to is None:
                continue  # the reference skips incomplete entries silently
            self.replacements.append((str(c_from).upper(), str(c_to).upper()))
        self._allowed = frozenset(self.valid_chars)

    def convert(self, plate: str) -> str:
        """The plate in this scheme: upper-cased, replaced, filtered to ``allowed`` and separators handled."""
        plate = plate.upper()
        for c_from, c_to in self.replacements:
            plate = plate.replace(c_from, c_to)
        allowed = self._allowed
        chars: list[str] = []
        for c in plate:
            if c in allowed:
                chars.append(c)
            else:
                # e.g. "É" -> "E": keep the base letter when the scheme allows it
                stripped = _strip_accents(c)
                if stripped and all(s in allowed for s in stripped):
                    chars.append(stripped)
        return self._separators("".join(chars))

    def _separators(self, plate: str) -> str:
        mode = self.kept_separators
        if mode == "ALL":
            return plate
        positions = [i for i, c in enumerate(plate) if c in SEPARATORS]
        if not positions:
            return plate
        keep = positions[0] if mode == "FIRST" else positions[-1] if mode == "LAST" else -1
        # unlike the reference, LAST keeps everything before a trailing separator
        return "".join(c for i, c in enumerate(plate) if i == keep or c not in SEPARATORS)

    def __repr__(self) -> str:
        return f"PlateYaml({self.scheme}-{self.version}, exactitude={self.exactitude})"


_DIGITS_LETTERS = string.digits + string.ascii_uppercase

BUILTIN_SCHEMES: dict[str, dict[str, Any]] = {
    "LEGACY-0.yml": {
        "allowed": _DIGITS_LETTERS.replace("O", "").replace("Q", ""),
        "exactitude": 0.0,
        "kept_separators": "NONE",
        "replacements": [
            {"from": "O", "to": "0"},
            {"from": "Q", "to": "0"},
            {"from": "Ä", "to": "A"},
            {"from": "Ö", "to": "0"},
            {"from": "Ü", "to": "U"},
        ],
    },
    "DEFAULT-5.yml": {
        "allowed": _DIGITS_LETTERS.replace("O", ""),
        "exactitude": 0.4,
        "kept_separators": "NONE",
        "replacements": [{"from": "O", "to": "0"}],
    },
    "DEFAULT-10.yml": {
        "allowed": _DIGITS_LETTERS + "ÄÖÜ:",
        "exactitude": 0.6,
        "kept_separators": "NONE",
        "replacements": [{"from": " ", "to": ":"}, {"from": "-", "to": ":"}, {"from": ".", "to": ":"}],
    },
    "DEFAULT-20.yml": {
        "allowed": _DIGITS_LETTERS + "ÄÖÜ:",
        "exactitude": 0.7,
        "kept_separators": "FIRST",
        "replacements": [{"from": " ", "to": ":"}, {"from": "-", "to": ":"}, {"from": ".", "to": ":"}],
    },
}
"""Schemes available without any file; a file with the same name replaces one. ``LEGACY-0`` is always
there (as in the reference); the ``DEFAULT`` ones (those of the 18.x line) only with
``PlateYamlSelector(..., builtin_default_schemes=True)``."""


def builtin_yamls(with_defaults: bool = False) -> list[PlateYaml]:
    """Fresh :class:`PlateYaml` objects of :data:`BUILTIN_SCHEMES`: ``LEGACY-0``, and the ``DEFAULT`` schemes
    too when ``with_defaults``."""
    return [
        PlateYaml(name, content)
        for name, content in BUILTIN_SCHEMES.items()
        if with_defaults or name == "LEGACY-0.yml"
    ]

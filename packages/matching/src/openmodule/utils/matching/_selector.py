"""PlateYamlSelector: loads the plate schemes, builds the matching db and matches plates against it."""

from __future__ import annotations

import glob
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from ._index import Record, RecordList, lookup
from ._yaml import PlateYaml, PlateYamlError, builtin_yamls

log = logging.getLogger("openmodule.utils.matching")

LOADED = "LOADED"
"""The revision used when there is no revision file: the schemes are loaded once."""

OTHER = "OTHER"

_RECORD_KEYS = frozenset(
    (
        "plate",
        "country",
        "plate_scheme",
        "plate_scheme_version",
        "plate_conv",
        "exactitude",
        "used_scheme",
        "used_version",
        "id",
    )
)

MatchingDb = dict[str, dict[int, list[Record]]]
"""``country -> used_version -> [records]``, as built by :meth:`PlateYamlSelector.insert_into_db`."""


class MatchingConfig(BaseModel):
    """Matching settings of a service (e.g. a section of its YAML config).

    Usage: ``selector = PlateYamlSelector.from_config(MatchingConfig(directory="/data/schemes/schemes"))``
    """

    directory: str = "/data/schemes/schemes"
    default_scheme: str = "DEFAULT"
    default_version: int = 10
    default_country_order: list[str] = []
    legacy_in_default_country_order: bool = False
    edit_distance: int = 0
    use_alternatives: bool = False
    only_best: bool = True
    add_other_country_always: bool = True


def _country_codes(countries: Any) -> list[str]:
    if countries is None:
        return [OTHER]  # no country read: any country may match
    if isinstance(countries, Mapping | str):
        countries = [countries]
    codes = []
    for entry in countries:
        code = entry.get("code") if isinstance(entry, Mapping) else entry
        if isinstance(code, str):
            codes.append(code)
    return codes


def _plate_text(entry: Any) -> str | None:
    text = entry.get("plate") if isinstance(entry, Mapping) else entry
    return text if isinstance(text, str) else None


class PlateYamlSelector:
    """All plate schemes of a directory (plus the built-in ``LEGACY-0``) and the plate matcher built on them.

    Without any scheme file every scheme converts with ``LEGACY-0`` (version 0 of every scheme), as in the
    reference. ``builtin_default_schemes=True`` adds the ``DEFAULT-5/10/20`` schemes the 18.x line ships
    (files of the same name still replace them).

    Usage::

        selector = PlateYamlSelector("/data/schemes/schemes", default_country_order=["A", "D"])
        db = {}
        selector.insert_into_db_and_create_record(db, "G-ARIVO1", "A", "DEFAULT", 10, id="42")
        plate = selector.create_plate_for_matching("GARIV01", country="A")
        [[best]] = selector.match_plate(plate, db, use_alternatives=False, max_ed=1)
    """

    def __init__(
        self,
        yaml_dir: str | os.PathLike[str],
        revision_file: str | os.PathLike[str] = "",
        default_country_order: Iterable[str] | None = None,
        legacy_in_default_country_order: bool = False,
        always_add_other_country_to_plate_for_matching: bool = True,
        *,
        builtin_default_schemes: bool = False,
    ) -> None:
        self.yaml_dir = os.fspath(yaml_dir)
        self.builtin_default_schemes = builtin_default_schemes
        self.revision_file = os.fspath(revision_file)
        self.default_country_order = list(default_country_order or [])
        self.legacy_in_default_country_order = legacy_in_default_country_order
        self.always_add_other_country_to_plate_for_matching = always_add_other_country_to_plate_for_matching
        self.schemes: dict[str, dict[int, PlateYaml]] = {}
        self.revision: str | None = None
        self._lock = threading.Lock()
        self.reload_yamls()

    @classmethod
    def from_config(cls, config: MatchingConfig) -> PlateYamlSelector:
        """A selector for ``config``; the revision file is ``revision`` beside the scheme directory."""
        directory = os.path.normpath(config.directory)
        return cls(
            directory,
            revision_file=os.path.join(os.path.dirname(directory), "revision"),
            default_country_order=config.default_country_order,
            legacy_in_default_country_order=config.legacy_in_default_country_order,
            always_add_other_country_to_plate_for_matching=config.add_other_country_always,
        )

    # -- schemes ---------------------------------------------------------------------------------------

    def _read_revision(self) -> str:
        if not self.revision_file:
            return LOADED
        try:
            with open(self.revision_file, encoding="utf-8") as f:
                return f.read().strip()
        except FileNotFoundError:
            return LOADED
        except (OSError, UnicodeDecodeError) as exc:
            log.warning(
                "cannot read scheme revision file %s (%s), using the loaded schemes", self.revision_file, exc
            )
            return self.revision if self.revision is not None else LOADED

    def reload_yamls(self) -> bool:
        """Load the schemes again if the revision file changed; returns whether they were loaded."""
        revision = self._read_revision()
        if revision == self.revision:
            return False
        with self._lock:
            if revision == self.revision:
                return False
            schemes: dict[str, dict[int, PlateYaml]] = {}
            for plate_yaml in builtin_yamls(self.builtin_default_schemes) + self._load_files():
                schemes.setdefault(plate_yaml.scheme, {})[plate_yaml.version] = plate_yaml
            # unknown schemes fall back to DEFAULT, so it always exists (with no file: LEGACY-0 only)
            schemes.setdefault("DEFAULT", {})
            # LEGACY-0 is the fallback version 0 of every scheme
            legacy = schemes["LEGACY"][0]
            schemes["LEGACY"] = {v: y for v, y in schemes["LEGACY"].items() if v != 0}
            for versions in schemes.values():
                versions[0] = legacy
            schemes["LEGACY"][0] = legacy
            self.schemes = schemes
            self.revision = revision
            log.info(
                "loaded plate schemes (revision %s): %s",
                revision,
                ", ".join(f"{s}-{v}" for s in sorted(schemes) for v in sorted(schemes[s])),
            )
            return True

    def _load_files(self) -> list[PlateYaml]:
        if not os.path.isdir(self.yaml_dir):
            log.warning(
                "plate scheme directory %s does not exist, using the built-in schemes only", self.yaml_dir
            )
            return []
        loaded = []
        for path in sorted(glob.glob(os.path.join(glob.escape(self.yaml_dir), "*.yml"))):
            try:
                loaded.append(PlateYaml(path))
            except PlateYamlError as exc:
                log.error("skipping plate scheme file: %s", exc)
            except Exception:  # a scheme file must never stop matching
                log.exception("skipping plate scheme file %s", path)
        return loaded

    def get_best_yaml(self, scheme: str, version: int) -> PlateYaml:
        """The yaml of ``scheme`` (``DEFAULT`` if unknown) with the highest version <= ``version``."""
        schemes = self.schemes
        versions = schemes.get(scheme) or schemes["DEFAULT"]
        usable = [v for v in versions if v <= version]
        return versions[max(usable) if usable else min(versions)]

    def convert(
        self, plate: str, scheme: str, version: int, return_matched_yaml: bool = False
    ) -> str | dict[str, Any]:
        """``plate`` converted with the best yaml; with ``return_matched_yaml`` a dict
        ``{plate, scheme, version, exactitude}`` naming the yaml actually used."""
        plate_yaml = self.get_best_yaml(scheme, version)
        converted = plate_yaml.convert(plate)
        if return_matched_yaml:
            return {
                "plate": converted,
                "scheme": plate_yaml.scheme,
                "version": plate_yaml.version,
                "exactitude": plate_yaml.exactitude,
            }
        return converted

    def get_all_exactitudes_decreasing(self) -> list[float]:
        """Every distinct exactitude of the loaded schemes, highest first."""
        return sorted(
            {y.exactitude for versions in self.schemes.values() for y in versions.values()}, reverse=True
        )

    # -- the matching db -------------------------------------------------------------------------------

    def create_db_record(
        self, plate: str, country: str, scheme: str, version: int, id: object = None, **kwargs: Any
    ) -> Record:
        """A db record for ``plate``; ``kwargs`` are stored too but must not collide with the record keys."""
        clash = _RECORD_KEYS.intersection(kwargs)
        if clash:
            raise ValueError(f"extra record fields {sorted(clash)} collide with the matching record keys")
        matched = self.convert(plate, scheme, version, return_matched_yaml=True)
        assert isinstance(matched, dict)
        return {
            "plate": plate,
            "country": country,
            "plate_scheme": scheme,
            "plate_scheme_version": version,
            "plate_conv": matched["plate"],
            "exactitude": matched["exactitude"],
            "used_scheme": matched["scheme"],
            "used_version": matched["version"],
            "id": id,
            **kwargs,
        }

    @staticmethod
    def insert_into_db(db: MatchingDb, record: Record) -> None:
        """Append ``record`` to ``db[country][used_version]`` (an indexed :class:`RecordList`)."""
        versions = db.setdefault(record["country"], {})
        records = versions.get(record["used_version"])
        if records is None:
            records = versions[record["used_version"]] = RecordList()
        records.append(record)

    def insert_into_db_and_create_record(
        self,
        db: MatchingDb,
        plate: str,
        country: str,
        scheme: str,
        version: int,
        id: object = None,
        **kwargs: Any,
    ) -> Record:
        """:meth:`create_db_record` and :meth:`insert_into_db` in one; returns the record."""
        record = self.create_db_record(plate, country, scheme, version, id, **kwargs)
        self.insert_into_db(db, record)
        return record

    # -- matching --------------------------------------------------------------------------------------

    def create_plate_for_matching(
        self,
        plate: str,
        country: str = OTHER,
        plate_confidence: float = 0.5,
        country_confidence: float = 0.5,
        alternatives: Iterable[str | Mapping[str, Any] | tuple[str, float]] | None = None,
    ) -> dict[str, Any]:
        """The plate dict :meth:`match_plate` takes. ``alternatives`` are plates (confidence
        ``plate_confidence``), ``(plate, confidence)`` pairs or ``{plate, confidence}`` dicts; without them
        the read plate is the only alternative."""
        countries = [{"code": country, "confidence": country_confidence}]
        if self.always_add_other_country_to_plate_for_matching and country != OTHER:
            countries.append({"code": OTHER, "confidence": 0.5})
        if alternatives is None:
            alternatives = [plate]
        alts = []
        for alt in alternatives:
            if isinstance(alt, Mapping):
                alts.append({"plate": alt["plate"], "confidence": alt.get("confidence", plate_confidence)})
            elif isinstance(alt, tuple):
                alts.append({"plate": alt[0], "confidence": alt[1]})
            else:
                alts.append({"plate": alt, "confidence": plate_confidence})
        return {
            "plate": {"plate": plate, "confidence": plate_confidence},
            "country": countries,
            "alternatives": alts,
        }

    def _search_order(
        self, countries: list[str], db: Mapping[str, Mapping[int, list[Record]]]
    ) -> list[list[Record]]:
        order: list[list[Record]] = []
        visited: set[tuple[str, int]] = set()

        def visit(country: str, version: int) -> None:
            records = db[country][version]
            if records and (country, version) not in visited:
                visited.add((country, version))
                order.append(records)

        step1: set[str] = set()
        other_met = False
        for code in countries:
            if code == OTHER:
                other_met = True
                break
            if code in step1 or code not in db:
                continue
            step1.add(code)
            for version in sorted(db[code], reverse=True):
                visit(code, version)
        if not other_met:
            return order
        for code in self.default_country_order:
            if code in step1 or code not in db:
                continue
            for version in sorted(db[code], reverse=True):
                if version == 0 and not self.legacy_in_default_country_order:
                    continue  # searched with the other legacy lists in step 3
                visit(code, version)
        rest = [
            (c, v, records)
            for c, versions in db.items()
            if c not in step1
            for v, records in sorted(versions.items(), key=lambda item: item[0], reverse=True)
            if records
        ]
        exactitudes = sorted({records[0].get("exactitude", 0.0) for _, _, records in rest}, reverse=True)
        for exactitude in exactitudes:
            for country, version, records in rest:
                if records[0].get("exactitude", 0.0) == exactitude:
                    visit(country, version)
        return order

    def match_plate(
        self,
        plate: Mapping[str, Any],
        db: Mapping[str, Mapping[int, list[Record]]],
        use_alternatives: bool = True,
        max_ed: int = 0,
        return_only_best: bool = True,
    ) -> list[list[Record]]:
        """Match a plate (see :meth:`create_plate_for_matching`) against ``db``.

        Returns buckets of records, one per edit distance ``0..max_ed``, each in search order. With
        ``use_alternatives`` every alternative is tried and ``max_ed`` is 0, so there is one bucket: the exact
        matches of the first alternative, then the new ones of the second, ... (each record once). With
        ``return_only_best`` only ``[[best]]`` (an exact match first, else the lowest distance), or the empty
        buckets.
        """
        self.reload_yamls()
        main = _plate_text(plate.get("plate"))
        if use_alternatives:
            max_ed = 0
            candidates = [p for p in map(_plate_text, plate.get("alternatives") or []) if p is not None]
            if not candidates:
                log.warning("plate %r has no alternatives, matching the read plate", main)
                candidates = [main] if main is not None else []
            buckets: list[list[Record]] = [[]]
        else:
            max_ed = max(0, int(max_ed))
            candidates = [main] if main is not None else []
            buckets = [[] for _ in range(max_ed + 1)]
        if main is None and not candidates:
            raise ValueError(f"plate {plate!r} has no plate text: expected {{'plate': {{'plate': str}}}}")

        order = self._search_order(_country_codes(plate.get("country")), db)
        # with alternatives one record can match several of them; it is listed once, where it matched first
        listed: set[int] = set()
        for candidate in candidates:
            converted: dict[tuple[Any, Any], str] = {}
            for records in order:
                first = records[0]
                key = (first.get("used_scheme"), first.get("used_version"))
                conv = converted.get(key)
                if conv is None:
                    scheme, version = key
                    conv = converted[key] = self.get_best_yaml(
                        scheme if isinstance(scheme, str) else "DEFAULT",
                        version if isinstance(version, int) else 0,
                    ).convert(candidate)
                for position, distance in lookup(records, conv, max_ed):
                    record = records[position]
                    if return_only_best and distance == 0:
                        return [[record]]
                    if use_alternatives:
                        if id(record) in listed:
                            continue
                        listed.add(id(record))
                    buckets[distance].append(record)
            if return_only_best:
                for bucket in buckets:
                    if bucket:
                        return [[bucket[0]]]
        return buckets

"""License-plate matching: plate schemes, conversion, the matching db and ``match_plate``.

Usage::

    from openmodule.utils.matching import MatchingConfig, PlateYamlSelector

    selector = PlateYamlSelector.from_config(MatchingConfig())
    db = {}
    selector.insert_into_db_and_create_record(db, "G ARIVO 1", "A", "DEFAULT", 10, id="42")
    result = selector.match_plate(selector.create_plate_for_matching("GARIV01", "A"), db)
"""

from __future__ import annotations

from ._index import RecordList
from ._selector import LOADED, OTHER, MatchingConfig, MatchingDb, PlateYamlSelector
from ._yaml import BUILTIN_SCHEMES, SEPARATORS, PlateYaml, PlateYamlError, parse_scheme_filename

__all__ = [
    "BUILTIN_SCHEMES",
    "LOADED",
    "OTHER",
    "SEPARATORS",
    "MatchingConfig",
    "MatchingDb",
    "PlateYaml",
    "PlateYamlError",
    "PlateYamlSelector",
    "RecordList",
    "parse_scheme_filename",
]

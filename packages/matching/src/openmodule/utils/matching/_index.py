"""The per-list plate index that lets ``match_plate`` look records up instead of scanning them.

Edit distance 0 is a dictionary lookup. Edit distance 1 uses a pigeonhole index: a record of length ``L`` is
stored under its first ``h = (L - 1) // 2`` and under its last ``L - 1 - h`` characters. One insertion,
deletion or substitution cannot touch both parts (they leave one character between them even when the other
string is one shorter), so a plate within distance 1 shares the head or the tail cut for the record's length,
which is one of ``len(plate) - 1 .. len(plate) + 1``; the few candidates are verified with the real distance
function. Three keys per record keep inserting cheap (a deletion neighbourhood would
need ``L + 1``). Larger distances use rapidfuzz's C++ scan over the cached plate strings.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from typing import Any, SupportsIndex

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

Record = dict[str, Any]

# serializes index catch-up when several threads match against the same fresh list
_CATCH_UP = threading.Lock()


def _split(length: int) -> tuple[int, int]:
    head = max(0, (length - 1) // 2)
    return head, max(0, length - 1 - head)


_SPLITS = [_split(n) for n in range(64)]


def _put(table: dict[str, int | list[int]], key: str, position: int) -> None:
    found = table.get(key)
    if found is None:
        table[key] = position
    elif found.__class__ is int:
        table[key] = [found, position]
    else:
        found.append(position)  # type: ignore[union-attr]


class _Index:
    __slots__ = ("exact", "heads", "plates", "tails")

    def __init__(self) -> None:
        # value: one record position, or a list of positions once shared (saves ~100k one-element lists).
        # Head/tail keys carry no length: their own length only fits records of two lengths (2h+1, 2h+2),
        # which are then just verified like any other candidate.
        self.exact: dict[str, int | list[int]] = {}
        self.heads: dict[str, int | list[int]] = {}
        self.tails: dict[str, int | list[int]] = {}
        self.plates: list[str | None] = []

    def extend(self, records: Iterable[Any]) -> None:
        """Index ``records`` as the next positions (one tight loop: this dominates building the db)."""
        plates = self.plates
        exact, heads, tails = self.exact, self.heads, self.tails
        splits = _SPLITS
        position = len(plates)
        for record in records:
            plate = record.get("plate_conv") if record.__class__ is dict or isinstance(record, dict) else None
            if plate.__class__ is not str:
                plates.append(None)  # never matches, like in the scan
                position += 1
                continue
            plates.append(plate)
            length = len(plate)
            head, tail = splits[length] if length < 64 else _split(length)
            if exact.get(plate) is None:
                exact[plate] = position
            else:
                _put(exact, plate, position)
            key = plate[:head]
            if heads.get(key) is None:
                heads[key] = position
            else:
                _put(heads, key, position)
            key = plate[length - tail :]
            if tails.get(key) is None:
                tails[key] = position
            else:
                _put(tails, key, position)
            position += 1

    def candidates(self, plate: str, max_ed: int) -> list[tuple[int, int]]:
        """Positions (ascending) and distances of the plates within ``max_ed`` of ``plate``."""
        if max_ed <= 0:
            found = self.exact.get(plate)
            if found is None:
                return []
            return [(p, 0) for p in ([found] if isinstance(found, int) else found)]
        if max_ed == 1:
            seen: set[int] = set()
            size = len(plate)
            lengths = [n for n in (size - 1, size, size + 1) if n >= 0]
            heads = {plate[: _split(n)[0]] for n in lengths}
            tails = {plate[size - _split(n)[1] :] for n in lengths}
            for table, keys in ((self.heads, heads), (self.tails, tails)):
                for key in keys:
                    found = table.get(key)
                    if found is None:
                        continue
                    if isinstance(found, int):
                        seen.add(found)
                    else:
                        seen.update(found)
            plates = self.plates
            result = []
            for position in sorted(seen):
                # only positions of str plates are ever stored in the tables
                distance = Levenshtein.distance(plate, plates[position] or "", score_cutoff=1)
                if distance <= 1:
                    result.append((position, distance))
            return result
        return scan(plate, self.plates, max_ed)


def scan(plate: str, plates: list[str | None], max_ed: int) -> list[tuple[int, int]]:
    """All ``(position, distance)`` with distance <= ``max_ed``, by rapidfuzz's C++ scan, ascending."""
    hits = process.extract(
        plate, plates, scorer=Levenshtein.distance, processor=None, score_cutoff=max_ed, limit=None
    )
    return sorted((position, int(distance)) for _, distance, position in hits)


def _invalidating(name: str) -> Any:
    method = getattr(list, name)

    def wrapper(self: RecordList, *args: Any, **kwargs: Any) -> Any:
        self._index = None  # rebuilt at the next lookup
        return method(self, *args, **kwargs)

    wrapper.__name__ = name
    wrapper.__doc__ = method.__doc__
    return wrapper


class RecordList(list[Record]):
    """The record list of one ``db[country][used_version]``: a plain list that keeps a plate index.

    ``insert_into_db`` creates these. Records appended (``append``, ``extend``, ``+=``) are indexed in one
    batch at the next lookup; any other change drops the index, which is rebuilt then. Records must not be
    changed in place after insertion (re-insert them).

    Usage: ``records = RecordList(); records.append(record); records.lookup("W12345", 1)``
    """

    __slots__ = ("_index",)

    def __init__(self, records: Iterable[Record] = ()) -> None:
        super().__init__(records)
        self._index: _Index | None = None

    def lookup(self, plate: str, max_ed: int) -> list[tuple[int, int]]:
        """``(position, distance)`` of every record whose ``plate_conv`` is within ``max_ed``, ascending."""
        index = self._index
        if index is None or len(index.plates) != len(self):
            with _CATCH_UP:
                index = self._index
                if index is None or len(index.plates) > len(self):
                    index = _Index()
                indexed = len(index.plates)
                if indexed < len(self):
                    # records appended since the last lookup (append is list's own, free of index work)
                    index.extend(itertools.islice(self, indexed, None))
                self._index = index
        return index.candidates(plate, max_ed)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        # pickles as a RecordList without the index (rebuilt on demand)
        return (RecordList, (list(self),))

    __setitem__ = _invalidating("__setitem__")
    __delitem__ = _invalidating("__delitem__")
    __imul__ = _invalidating("__imul__")
    insert = _invalidating("insert")
    pop = _invalidating("pop")
    remove = _invalidating("remove")
    clear = _invalidating("clear")
    sort = _invalidating("sort")
    reverse = _invalidating("reverse")


def lookup(records: list[Record], plate: str, max_ed: int) -> list[tuple[int, int]]:
    """Index lookup for a :class:`RecordList`, a scan for any other list (a db built by hand)."""
    if isinstance(records, RecordList):
        return records.lookup(plate, max_ed)
    plates = [r.get("plate_conv") if isinstance(r, dict) else None for r in records]
    plates = [p if isinstance(p, str) else None for p in plates]
    if max_ed <= 0:
        return [(i, 0) for i, p in enumerate(plates) if p == plate]
    return scan(plate, plates, max_ed)

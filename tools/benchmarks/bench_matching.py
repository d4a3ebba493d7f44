"""Benchmark of openmodule.utils.matching: the indexed matcher beside a plain loop over every record.

Cases (100,000 random 7-character plates of one country, ``max_ed=1``):
- build (best of 3 alternated rounds): ``insert_into_db_and_create_record`` plus the first match (which
  indexes the appended records) vs a plain loop of ``create_db_record`` and
  appends to plain lists;
- miss / near hit (``return_only_best=False``, all matches): ``match_plate`` vs a plain loop computing the same
  rapidfuzz Levenshtein distance (with the same cutoff) for every record;
- exact hit (``return_only_best=True``): ``match_plate`` vs the plain loop stopping at the first exact match.
Results of every measured call are checked to be identical to the loop's. Timed regions run with the
garbage collector paused (as timeit does), for both sides alike.
"""

from __future__ import annotations

import gc
import random
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from openmodule.utils.matching import PlateYamlSelector

N_RECORDS = 100_000
ALPHABET = string.ascii_uppercase + string.digits


def _row(
    case: str,
    value: float,
    unit: str,
    baseline_case: str,
    baseline: float | None,
    target: str,
    met: bool | None,
) -> dict[str, Any]:
    return {
        "benchmark": "matching",
        "case": case,
        "value": round(value, 6),
        "unit": unit,
        "baseline_case": baseline_case,
        "baseline_value": None if baseline is None else round(baseline, 6),
        "target": target,
        "met": met,
    }


def _plain_match(records: list[dict[str, Any]], conv: str, max_ed: int, only_best: bool) -> list[list[Any]]:
    buckets: list[list[Any]] = [[] for _ in range(max_ed + 1)]
    for record in records:
        distance = Levenshtein.distance(conv, record["plate_conv"], score_cutoff=max_ed)
        if distance <= max_ed:
            if only_best and distance == 0:
                return [[record]]
            buckets[distance].append(record)
    if only_best:
        for bucket in buckets:
            if bucket:
                return [[bucket[0]]]
    return buckets


def _timed(fn: Any) -> tuple[float, Any]:
    # like timeit: no garbage collection pass inside the timed region, for both sides alike
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def _per_call_ms(fn: Any, queries: list[str]) -> float:
    seconds, _ = _timed(lambda: [fn(q) for q in queries])
    return seconds * 1000 / len(queries)


def run(quick: bool = False) -> list[dict[str, Any]]:
    rng = random.Random(20)
    plates = list({"".join(rng.choice(ALPHABET) for _ in range(7)) for _ in range(N_RECORDS + 1000)})[
        :N_RECORDS
    ]
    n_queries = 5 if quick else 20
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "schemes"
        directory.mkdir()
        (Path(tmp) / "revision").write_text("1")
        # the DEFAULT-10 built-in, as the recorded figures were measured with it
        selector = PlateYamlSelector(
            directory, revision_file=Path(tmp) / "revision", builtin_default_schemes=True
        )

        # build: plain loop (records into plain lists) beside the indexed db, alternated, best of the rounds
        def build_plain() -> dict[str, dict[int, list[dict[str, Any]]]]:
            plain_db: dict[str, dict[int, list[dict[str, Any]]]] = {}
            for i, plate in enumerate(plates):
                record = selector.create_db_record(plate, "A", "DEFAULT", 10, id=i)
                plain_db.setdefault("A", {}).setdefault(record["used_version"], []).append(record)
            return plain_db

        def build_indexed() -> dict[str, Any]:
            db: dict[str, Any] = {}
            for i, plate in enumerate(plates):
                selector.insert_into_db_and_create_record(db, plate, "A", "DEFAULT", 10, id=i)
            # appended records are indexed at the first match: it belongs to the build time
            selector.match_plate(
                selector.create_plate_for_matching(plates[0], "A"), db, use_alternatives=False, max_ed=1
            )
            return db

        plain_build = build = float("inf")
        for _ in range(1 if quick else 3):
            plain_db = db = None  # free the previous round's dbs before timing the next
            seconds, plain_db = _timed(build_plain)
            plain_build = min(plain_build, seconds)
            seconds, db = _timed(build_indexed)
            build = min(build, seconds)
        assert plain_db is not None and db is not None
        rows.append(
            _row(
                "build db incl. index and first match, 100k records",
                build * 1000,
                "ms",
                "plain insert loop",
                plain_build * 1000,
                "<= 2x baseline",
                build <= 2 * plain_build,
            )
        )

        records = plain_db["A"][10]
        sample = rng.sample(plates, n_queries)
        queries = {
            "miss": ["".join(rng.choice(ALPHABET) for _ in range(7)) for _ in range(n_queries)],
            "near hit": [p[:3] + ("0" if p[3] != "0" else "1") + p[4:] for p in sample],
            "exact hit": sample,
        }
        for case, plates_q in queries.items():
            only_best = case == "exact hit"

            def indexed(q: str, only_best: bool = only_best) -> list[list[Any]]:
                return selector.match_plate(
                    selector.create_plate_for_matching(q, "A"),
                    db,
                    use_alternatives=False,
                    max_ed=1,
                    return_only_best=only_best,
                )

            def plain(q: str, only_best: bool = only_best) -> list[list[Any]]:
                return _plain_match(records, selector.convert(q, "DEFAULT", 10), 1, only_best)  # type: ignore[arg-type]

            for q in plates_q:  # same answers, or the timing means nothing
                if indexed(q) != plain(q):
                    raise AssertionError(f"{case} {q}: indexed and plain results differ")
            base_ms = _per_call_ms(plain, plates_q)
            ms = _per_call_ms(indexed, plates_q)
            speedup = base_ms / ms if ms else float("inf")
            if case == "exact hit":
                target, met = "informational (plain loop stops at the first exact match)", None
            else:
                target, met = ">= 50x faster than baseline", speedup >= 50
            rows.append(
                _row(
                    f"match_plate {case}, max_ed=1, 100k records",
                    ms,
                    "ms",
                    "plain loop over all records, same distance function",
                    base_ms,
                    target,
                    met,
                )
            )
            rows.append(_row(f"match_plate {case} speed-up", speedup, "x", "plain loop", 1.0, target, met))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)

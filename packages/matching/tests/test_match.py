from __future__ import annotations

import logging
import pickle
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from openmodule.utils.matching import PlateYamlSelector, RecordList


def ids(buckets):
    return [[r["id"] for r in bucket] for bucket in buckets]


def make_db(selector, rows):
    """rows: (plate, country, scheme, version, id)"""
    db: dict = {}
    for plate, country, scheme, version, id_ in rows:
        selector.insert_into_db_and_create_record(db, plate, country, scheme, version, id=id_)
    return db


def plain_match(selector, plate, db, use_alternatives, max_ed, only_best):
    """The reference algorithm written as a plain loop over every record (the oracle of the index)."""
    codes = [c["code"] for c in plate["country"]]
    order, step1, visited = [], [], set()

    def visit(c, v):
        if db[c][v] and (c, v) not in visited:
            visited.add((c, v))
            order.append(db[c][v])

    other = "OTHER" in codes
    for code in codes[: codes.index("OTHER")] if other else codes:
        if code in db and code not in step1:
            step1.append(code)
            for v in sorted(db[code], reverse=True):
                visit(code, v)
    if other:
        for code in selector.default_country_order:
            if code in db and code not in step1:
                for v in sorted(db[code], reverse=True):
                    if v != 0 or selector.legacy_in_default_country_order:
                        visit(code, v)
        lists = [(c, v) for c in db if c not in step1 for v in sorted(db[c], reverse=True) if db[c][v]]
        for ex in sorted({db[c][v][0]["exactitude"] for c, v in lists}, reverse=True):
            for c, v in lists:
                if db[c][v][0]["exactitude"] == ex:
                    visit(c, v)
    if use_alternatives:
        candidates, max_ed = [a["plate"] for a in plate["alternatives"]], 0
    else:
        candidates = [plate["plate"]["plate"]]
    buckets = [[] for _ in range(max_ed + 1)]
    for candidate in candidates:
        for records in order:
            conv = selector.convert(candidate, records[0]["used_scheme"], records[0]["used_version"])
            for record in records:
                d = Levenshtein.distance(conv, record["plate_conv"])
                if d <= max_ed:
                    if only_best and d == 0:
                        return [[record]]
                    if not any(record is listed for listed in buckets[d]):
                        buckets[d].append(record)
        if only_best:
            for bucket in buckets:
                if bucket:
                    return [[bucket[0]]]
    return buckets


def test_exact_and_near_matches_in_independent_buckets(selector):
    db = make_db(
        selector,
        [
            ("AB12", "A", "DEFAULT", 10, 1),
            ("AB13", "A", "DEFAULT", 10, 2),
            ("AB1", "A", "DEFAULT", 10, 3),
            ("XB13", "A", "DEFAULT", 10, 4),
            ("AB12", "A", "DEFAULT", 10, 5),
            ("ZZZZ", "A", "DEFAULT", 10, 6),
        ],
    )
    plate = selector.create_plate_for_matching("ab-12", "A")
    assert ids(selector.match_plate(plate, db, False, 2, False)) == [[1, 5], [2, 3], [4]]
    assert ids(selector.match_plate(plate, db, False, 1, False)) == [[1, 5], [2, 3]]
    assert ids(selector.match_plate(plate, db, False, 0, False)) == [[1, 5]]
    assert ids(selector.match_plate(plate, db, False, 2, True)) == [[1]]
    miss = selector.create_plate_for_matching("QQQQQQQ", "A")
    assert ids(selector.match_plate(miss, db, False, 2, False)) == [[], [], []]
    assert ids(selector.match_plate(miss, db, False, 2, True)) == [[], [], []]


def test_only_best_prefers_lowest_distance_then_search_order(selector):
    # D is searched first (read country), A later via OTHER; the near hit in D loses to the exact hit in A
    db = make_db(selector, [("AB13", "D", "DEFAULT", 10, "near-D"), ("AB12", "A", "DEFAULT", 10, "exact-A")])
    plate = selector.create_plate_for_matching("AB12", "D")
    assert ids(selector.match_plate(plate, db, False, 1, True)) == [["exact-A"]]
    assert ids(selector.match_plate(plate, db, False, 1, False)) == [["exact-A"], ["near-D"]]
    db = make_db(selector, [("AB1", "D", "DEFAULT", 10, "d2"), ("AB12", "A", "DEFAULT", 10, "d1")])
    plate = selector.create_plate_for_matching("AB12X", "D")
    assert ids(selector.match_plate(plate, db, False, 2, True)) == [["d1"]]


def test_alternatives_fill_one_bucket_in_alternative_order(selector):
    # every alternative is matched exactly (max_ed is forced to 0), so the first bucket holds what any of
    # them found, the matches of earlier alternatives first: buckets[0][0] is the best match
    db = make_db(selector, [("AB12", "A", "DEFAULT", 10, 1), ("A812", "A", "DEFAULT", 10, 2)])
    plate = selector.create_plate_for_matching("AB12", "A", alternatives=["XXXX", "A812", "AB12", "AB1"])
    assert ids(selector.match_plate(plate, db, True, 3, False)) == [[2, 1]]
    assert ids(selector.match_plate(plate, db, True, 3, True)) == [[2]]
    miss = selector.create_plate_for_matching("AB12", "A", alternatives=["XXXX", "YYYY"])
    assert ids(selector.match_plate(miss, db, True, 0, False)) == [[]]


def test_a_record_several_alternatives_match_is_listed_once(selector):
    db = make_db(selector, [("AB12", "A", "DEFAULT", 10, 1), ("CD34", "A", "DEFAULT", 10, 2)])
    # "ab 12" and "AB-12" convert alike
    plate = selector.create_plate_for_matching("AB12", "A", alternatives=["ab 12", "CD34", "AB-12"])
    assert ids(selector.match_plate(plate, db, True, 0, False)) == [[1, 2]]


def test_alternatives_missing_falls_back_to_plate(selector, matching_log):
    db = make_db(selector, [("AB12", "A", "DEFAULT", 10, 1)])
    plate = selector.create_plate_for_matching("AB12", "A", alternatives=[])
    assert ids(selector.match_plate(plate, db, True)) == [[1]]
    assert "no alternatives" in matching_log.text


def test_candidate_converted_with_the_lists_scheme(selector):
    db = make_db(
        selector,
        [
            ("W-12", "A", "DEFAULT", 20, "v20"),
            ("W-12", "A", "DEFAULT", 10, "v10"),
            ("W-12", "A", "DEFAULT", 3, "legacy"),
        ],
    )
    plate = selector.create_plate_for_matching("w 12", "A")
    # versions descending: 20 (W:12), 10 (W12), 0 (W12 in legacy)
    assert ids(selector.match_plate(plate, db, False, 0, False)) == [["v20", "v10", "legacy"]]


def test_search_order_read_countries_until_other_only(selector):
    db = make_db(
        selector,
        [
            ("AB1", "A", "DEFAULT", 10, "A"),
            ("AB1", "D", "DEFAULT", 10, "D"),
            ("AB1", "CH", "DEFAULT", 10, "CH"),
        ],
    )
    plate = {"plate": {"plate": "AB1"}, "country": [{"code": "D"}, {"code": "XX"}, {"code": "A"}]}
    assert ids(selector.match_plate(plate, db, False, 0, False)) == [["D", "A"]]
    plate["country"].insert(1, {"code": "OTHER"})
    assert ids(selector.match_plate(plate, db, False, 0, False)) == [["D", "A", "CH"]]


def test_search_order_default_country_order_and_exactitudes(scheme_dir):
    selector = PlateYamlSelector(scheme_dir, default_country_order=["CH", "I"], builtin_default_schemes=True)
    rows = [("AB1", c, "DEFAULT", v, f"{c}{v}") for c in ("A", "CH", "D", "I") for v in (3, 5, 10, 20)]
    db = make_db(selector, rows)
    plate = selector.create_plate_for_matching("AB1", "D")
    got = ids(selector.match_plate(plate, db, False, 0, False))[0]
    assert got == [
        "D20",
        "D10",
        "D5",
        "D3",  # read country, versions descending
        "CH20",
        "CH10",
        "CH5",
        "I20",
        "I10",
        "I5",  # default order, legacy (version 0) skipped
        "A20",
        "A10",
        "A5",  # the rest by exactitude 0.7, 0.6, 0.4
        "A3",
        "CH3",
        "I3",  # exactitude 0: the legacy lists, default-order countries included
    ]
    selector.legacy_in_default_country_order = True
    got = ids(selector.match_plate(plate, db, False, 0, False))[0]
    assert got == [
        "D20",
        "D10",
        "D5",
        "D3",
        "CH20",
        "CH10",
        "CH5",
        "CH3",
        "I20",
        "I10",
        "I5",
        "I3",
        "A20",
        "A10",
        "A5",
        "A3",
    ]


def test_plain_list_db_gives_the_same_results(selector):
    rows = [("AB12", "A", "DEFAULT", 10, 1), ("AB13", "A", "DEFAULT", 10, 2), ("AB1", "A", "DEFAULT", 10, 3)]
    indexed = make_db(selector, rows)
    plain = {c: {v: list(records) for v, records in versions.items()} for c, versions in indexed.items()}
    plate = selector.create_plate_for_matching("AB12", "A")
    for max_ed in (0, 1, 2):
        assert selector.match_plate(plate, plain, False, max_ed, False) == selector.match_plate(
            plate, indexed, False, max_ed, False
        )


def test_record_list_mutations_keep_results_right(selector):
    db = make_db(selector, [("AB12", "A", "DEFAULT", 10, 1), ("AB13", "A", "DEFAULT", 10, 2)])
    records = db["A"][10]
    plate = selector.create_plate_for_matching("AB12", "A")
    records.remove(records[0])
    assert ids(selector.match_plate(plate, db, False, 1, False)) == [[], [2]]
    records.insert(0, selector.create_db_record("AB12", "A", "DEFAULT", 10, id=3))
    records[1] = selector.create_db_record("AB14", "A", "DEFAULT", 10, id=4)
    assert ids(selector.match_plate(plate, db, False, 1, False)) == [[3], [4]]
    records.extend([selector.create_db_record("XB12", "A", "DEFAULT", 10, id=5)])
    del records[0]
    records.reverse()
    assert ids(selector.match_plate(plate, db, False, 1, False)) == [[], [5, 4]]
    clone = pickle.loads(pickle.dumps(db))
    assert isinstance(clone["A"][10], RecordList)
    assert ids(selector.match_plate(plate, clone, False, 1, False)) == [[], [5, 4]]
    records.clear()
    assert ids(selector.match_plate(plate, db, False, 1, False)) == [[], []]


def test_malformed_records_never_match(selector):
    db = make_db(selector, [("AB12", "A", "DEFAULT", 10, 1)])
    db["A"][10].append({"plate_conv": None, "id": 2})
    db["A"][10].append({"plate_conv": "AB12", "id": 3})
    assert ids(
        selector.match_plate(selector.create_plate_for_matching("AB12", "A"), db, False, 1, False)
    ) == [[1, 3], []]


def test_plate_without_text_raises(selector):
    with pytest.raises(ValueError, match="no plate text"):
        selector.match_plate({"plate": {}, "country": []}, {}, use_alternatives=False)


def test_schemes_reloaded_at_match(selector, write_scheme, scheme_dir, caplog):
    caplog.set_level(logging.INFO)
    db = make_db(selector, [("AB12", "A", "DEFAULT", 10, 1)])
    write_scheme("DEFAULT-10.yml", "allowed: 'AB'\nexactitude: 0.6\n")
    (scheme_dir.parent / "revision").write_text("2")
    # the candidate is now converted with the new DEFAULT-10 (digits dropped) -> no exact match
    assert ids(
        selector.match_plate(selector.create_plate_for_matching("AB12", "A"), db, False, 0, False)
    ) == [[]]
    assert selector.revision == "2"


PLATE = st.text(alphabet="AB1-", min_size=0, max_size=5)
ROW = st.tuples(
    PLATE,
    st.sampled_from(["A", "D", "CH"]),
    st.sampled_from(["DEFAULT", "LEGACY", "X"]),
    st.sampled_from([0, 5, 10, 20]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(ROW, max_size=30),
    query=PLATE,
    alternatives=st.lists(PLATE, max_size=3),
    countries=st.lists(st.sampled_from(["A", "D", "CH", "OTHER", "XX"]), max_size=3),
    use_alternatives=st.booleans(),
    max_ed=st.integers(min_value=0, max_value=3),
    only_best=st.booleans(),
    default_order=st.lists(st.sampled_from(["A", "D", "CH"]), max_size=2),
    legacy=st.booleans(),
)
def test_index_gives_the_plain_loop_results(
    selector, rows, query, alternatives, countries, use_alternatives, max_ed, only_best, default_order, legacy
):
    selector.default_country_order = default_order
    selector.legacy_in_default_country_order = legacy
    db = make_db(selector, [(*row, i) for i, row in enumerate(rows)])
    plate = {
        "plate": {"plate": query},
        "country": [{"code": c} for c in countries],
        "alternatives": [{"plate": a} for a in alternatives or [query]],
    }
    expected = plain_match(selector, plate, db, use_alternatives, max_ed, only_best)
    assert selector.match_plate(plate, db, use_alternatives, max_ed, only_best) == expected


def test_random_plates_within_one_edit_are_found(selector):
    import random

    rng = random.Random(7)
    plates = [
        "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(7)) for _ in range(2000)
    ]
    db = make_db(selector, [(p, "A", "DEFAULT", 10, i) for i, p in enumerate(plates)])
    for i in range(0, 2000, 97):
        near = plates[i][:3] + plates[i][4:]
        expected = [
            [r for r in db["A"][10] if r["plate_conv"] == near],
            [r for r in db["A"][10] if Levenshtein.distance(r["plate_conv"], near) == 1],
        ]
        assert (
            selector.match_plate(selector.create_plate_for_matching(near, "A"), db, False, 1, False)
            == expected
        )
        assert i in ids(expected)[1]


def test_index_finds_every_plate_within_one_edit_exhaustively():
    import itertools

    words = ["".join(w) for n in range(6) for w in itertools.product("AB:", repeat=n)]
    records = RecordList({"plate_conv": w, "id": i} for i, w in enumerate(words))
    for query in words:
        expected = [(i, d) for i, w in enumerate(words) if (d := Levenshtein.distance(query, w)) <= 1]
        assert records.lookup(query, 1) == expected, query
        assert records.lookup(query, 0) == [(words.index(query), 0)]


def test_records_appended_after_a_lookup_are_found(selector):
    records = RecordList([{"plate_conv": "AB12", "id": 1}])
    assert records.lookup("AB12", 1) == [(0, 0)]
    records.append({"plate_conv": "AB13", "id": 2})
    records += [{"plate_conv": "AB12", "id": 3}]
    records.extend([{"plate_conv": "XX", "id": 4}])
    assert records.lookup("AB12", 1) == [(0, 0), (1, 1), (2, 0)]
    records *= 0
    assert records.lookup("AB12", 1) == []

from __future__ import annotations

import logging

import pytest

import openmodule.utils.matching as matching_module
from openmodule.utils.matching import LOADED, MatchingConfig, PlateYamlSelector, RecordList

LEGACY_TEXT = "allowed: '0123456789ABC'\nexactitude: 0.05\n"


def test_all_is_complete():
    public = {n for n in vars(matching_module) if not n.startswith("_") and n != "annotations"}
    assert set(matching_module.__all__) == public


def test_matching_config_defaults():
    assert MatchingConfig().model_dump() == {
        "directory": "/data/schemes/schemes",
        "default_scheme": "DEFAULT",
        "default_version": 10,
        "default_country_order": [],
        "legacy_in_default_country_order": False,
        "edit_distance": 0,
        "use_alternatives": False,
        "only_best": True,
        "add_other_country_always": True,
    }


def test_builtins_without_files(selector):
    assert {s: sorted(v) for s, v in selector.schemes.items()} == {"DEFAULT": [0, 5, 10, 20], "LEGACY": [0]}
    assert selector.revision == LOADED
    legacy = selector.schemes["LEGACY"][0]
    assert selector.schemes["DEFAULT"][0] is legacy
    assert selector.get_all_exactitudes_decreasing() == [0.7, 0.6, 0.4, 0.0]


def test_missing_directory_uses_builtins(tmp_path, matching_log):
    selector = PlateYamlSelector(tmp_path / "nope", builtin_default_schemes=True)
    assert sorted(selector.schemes["DEFAULT"]) == [0, 5, 10, 20]
    assert "does not exist" in matching_log.text


@pytest.mark.parametrize("existing", [True, False])
def test_without_scheme_files_every_scheme_converts_as_legacy(tmp_path, existing):
    directory = tmp_path / "schemes"
    if existing:
        directory.mkdir()
    selector = PlateYamlSelector(directory)
    assert {s: sorted(v) for s, v in selector.schemes.items()} == {"DEFAULT": [0], "LEGACY": [0]}
    legacy = selector.schemes["LEGACY"][0]
    for scheme, version in (("A", 10), ("DEFAULT", 10), ("DEFAULT", 99), ("LEGACY", 0), ("XY", 1)):
        assert selector.get_best_yaml(scheme, version) is legacy
        assert selector.convert("w Öq-7", scheme, version) == "W007"
    assert selector.get_all_exactitudes_decreasing() == [0.0]


def test_a_scheme_file_replaces_the_legacy_conversion_on_the_next_revision(
    tmp_path, write_scheme, scheme_dir
):
    revision = scheme_dir.parent / "revision"
    revision.write_text("1")
    selector = PlateYamlSelector(scheme_dir, revision_file=revision)
    assert selector.convert("Ab-1 o", "DEFAULT", 10) == "AB10"
    write_scheme("DEFAULT-10.yml", "allowed: 'ABO1 -'\nexactitude: 0.5\nkept_separators: all\n")
    selector.reload_yamls()
    assert selector.convert("Ab-1 o", "DEFAULT", 10) == "AB10"  # same revision: not read yet
    revision.write_text("2")
    selector.reload_yamls()
    assert selector.convert("Ab-1 o", "DEFAULT", 10) == "AB-1 O"
    assert selector.convert("Ab-1 o", "DEFAULT", 9) == "AB10"  # below the file's version: legacy


def test_files_override_builtins_and_legacy_is_version_zero_everywhere(selector, write_scheme, scheme_dir):
    write_scheme("LEGACY-0.yml", LEGACY_TEXT)
    write_scheme("DEFAULT-10.yml", "allowed: '0123456789'\nexactitude: 0.65\n")
    write_scheme("A-3.yml", "allowed: 'ABC'\nexactitude: 0.9\nkept_separators: all\n")
    (scheme_dir / "revision").write_text("r1")  # inside the directory: not the revision file, not a *.yml
    (scheme_dir.parent / "revision").write_text("r1\n")
    assert selector.reload_yamls() is True
    assert selector.revision == "r1"
    assert {s: sorted(v) for s, v in selector.schemes.items()} == {
        "A": [0, 3],
        "DEFAULT": [0, 5, 10, 20],
        "LEGACY": [0],
    }
    assert selector.schemes["A"][0].valid_chars == "0123456789ABC"
    assert selector.schemes["A"][0] is selector.schemes["DEFAULT"][0] is selector.schemes["LEGACY"][0]
    assert selector.schemes["DEFAULT"][10].exactitude == 0.65
    assert selector.reload_yamls() is False  # same revision: nothing read


def test_reload_only_when_revision_changes(selector, write_scheme, scheme_dir):
    revision = scheme_dir.parent / "revision"
    revision.write_text("1")
    selector.reload_yamls()
    write_scheme("B-1.yml", "allowed: 'B'\nexactitude: 1\n")
    assert selector.reload_yamls() is False
    assert "B" not in selector.schemes
    revision.write_text("2")
    assert selector.reload_yamls() is True
    assert sorted(selector.schemes["B"]) == [0, 1]


def test_bad_files_are_logged_and_skipped(selector, write_scheme, scheme_dir, matching_log):
    write_scheme("A-1.yml", "allowed: [broken\n")
    write_scheme("A-2.yml", "exactitude: 1\n")
    write_scheme("nonsense.yml", "allowed: 'A'\nexactitude: 1\n")
    write_scheme("A-3.yml", "allowed: 'A'\nexactitude: 1\n")
    (scheme_dir / "A-4.yml").mkdir()  # unreadable as a file
    (scheme_dir.parent / "revision").write_text("x")
    selector.reload_yamls()
    assert sorted(selector.schemes["A"]) == [0, 3]
    errors = [r.getMessage() for r in matching_log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 4
    assert any("A-1.yml" in m and "not valid YAML" in m for m in errors)
    assert any("nonsense.yml" in m for m in errors)
    # matching still works
    db: dict = {}
    selector.insert_into_db_and_create_record(db, "AAA", "X", "A", 3)
    assert selector.match_plate(selector.create_plate_for_matching("aaa", "X"), db)[0][0]["plate"] == "AAA"


def test_get_best_yaml(selector, write_scheme, scheme_dir):
    write_scheme("A-3.yml", "allowed: 'A'\nexactitude: 1\n")
    write_scheme("A-7.yml", "allowed: 'B'\nexactitude: 1\n")
    (scheme_dir.parent / "revision").write_text("x")
    selector.reload_yamls()
    assert [selector.get_best_yaml("A", v).version for v in (0, 2, 3, 6, 7, 100)] == [0, 0, 3, 3, 7, 7]
    best = selector.get_best_yaml("UNKNOWN", 12)
    assert (best.scheme, best.version) == ("DEFAULT", 10)
    assert selector.get_best_yaml("DEFAULT", 4).scheme == "LEGACY"


def test_convert(selector):
    assert selector.convert("w-12 ab", "DEFAULT", 25) == "W:12AB"
    assert selector.convert("w-12 ab", "XX", 10, return_matched_yaml=True) == {
        "plate": "W12AB",
        "scheme": "DEFAULT",
        "version": 10,
        "exactitude": 0.6,
    }
    assert selector.convert("go", "DEFAULT", 3, return_matched_yaml=True) == {
        "plate": "G0",
        "scheme": "LEGACY",
        "version": 0,
        "exactitude": 0.0,
    }


def test_from_config(tmp_path):
    directory = tmp_path / "schemes" / "schemes"
    directory.mkdir(parents=True)
    (directory / "Z-1.yml").write_text("allowed: 'Z'\nexactitude: 1\n")
    (tmp_path / "schemes" / "revision").write_text("abc")
    selector = PlateYamlSelector.from_config(
        MatchingConfig(
            directory=str(directory),
            default_country_order=["A"],
            legacy_in_default_country_order=True,
            add_other_country_always=False,
        )
    )
    assert selector.revision == "abc"
    assert selector.revision_file == str(tmp_path / "schemes" / "revision")
    assert (selector.default_country_order, selector.legacy_in_default_country_order) == (["A"], True)
    assert selector.always_add_other_country_to_plate_for_matching is False
    assert "Z" in selector.schemes


def test_create_db_record(selector):
    record = selector.create_db_record("g-ab 1", "A", "DEFAULT", 20, id=7, customer="c1")
    assert record == {
        "plate": "g-ab 1",
        "country": "A",
        "plate_scheme": "DEFAULT",
        "plate_scheme_version": 20,
        "plate_conv": "G:AB1",
        "exactitude": 0.7,
        "used_scheme": "DEFAULT",
        "used_version": 20,
        "id": 7,
        "customer": "c1",
    }
    with pytest.raises(ValueError, match="plate_conv"):
        selector.create_db_record("x", "A", "DEFAULT", 20, plate_conv="y")


def test_insert_into_db(selector):
    db: dict = {}
    r1 = selector.insert_into_db_and_create_record(db, "AB1", "A", "DEFAULT", 10, id=1)
    r2 = selector.insert_into_db_and_create_record(
        db, "AB2", "A", "A", 12, id=2
    )  # unknown scheme -> DEFAULT-10
    r3 = selector.insert_into_db_and_create_record(db, "AB3", "D", "DEFAULT", 3, id=3)
    assert db == {"A": {10: [r1, r2]}, "D": {0: [r3]}}
    assert isinstance(db["A"][10], RecordList)


def test_create_plate_for_matching(selector):
    assert selector.create_plate_for_matching("AB1", "A", 0.9, 0.8) == {
        "plate": {"plate": "AB1", "confidence": 0.9},
        "country": [{"code": "A", "confidence": 0.8}, {"code": "OTHER", "confidence": 0.5}],
        "alternatives": [{"plate": "AB1", "confidence": 0.9}],
    }
    # the read country already is OTHER: not added twice (the reference compared the list with "OTHER")
    assert selector.create_plate_for_matching("AB1")["country"] == [{"code": "OTHER", "confidence": 0.5}]
    alts = selector.create_plate_for_matching(
        "AB1", "A", 0.9, alternatives=["AB1", ("A81", 0.3), {"plate": "X"}]
    )
    assert alts["alternatives"] == [
        {"plate": "AB1", "confidence": 0.9},
        {"plate": "A81", "confidence": 0.3},
        {"plate": "X", "confidence": 0.9},
    ]


def test_create_plate_without_other(scheme_dir):
    selector = PlateYamlSelector(scheme_dir, always_add_other_country_to_plate_for_matching=False)
    assert selector.create_plate_for_matching("AB1", "A")["country"] == [{"code": "A", "confidence": 0.5}]

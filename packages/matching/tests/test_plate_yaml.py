from __future__ import annotations

import pytest

from openmodule.utils.matching import BUILTIN_SCHEMES, PlateYaml, PlateYamlError, parse_scheme_filename


def yaml(kept: str = "NONE", allowed: str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -_.:", replacements=None):
    return PlateYaml(
        "X-1.yml",
        {"allowed": allowed, "exactitude": 0.5, "kept_separators": kept, "replacements": replacements or []},
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DEFAULT-10.yml", ("DEFAULT", 10)),
        ("/a/b/A-3.yml", ("A", 3)),
        ("D.7.yml", ("D", 7)),
        ("CH-2-extra.yml", ("CH", 2)),
    ],
)
def test_parse_scheme_filename(name, expected):
    assert parse_scheme_filename(name) == expected


@pytest.mark.parametrize("name", ["DEFAULT.yml", "DEFAULT-x.yml", "-3.yml"])
def test_parse_scheme_filename_rejects(name):
    with pytest.raises(PlateYamlError, match="yml"):
        parse_scheme_filename(name)


def test_attributes_from_content():
    y = PlateYaml(
        "A-3.yml",
        {
            "allowed": "abc",
            "exactitude": "0.25",
            "kept_separators": "first",
            "replacements": [
                {"from": "x", "to": "a"},
                {"from": "", "to": "b"},
                {"to": "c"},
                {"from": "y"},
                {"from": "z", "to": ""},
            ],
        },
    )
    assert (y.scheme, y.version, y.exactitude, y.valid_chars, y.kept_separators) == (
        "A",
        3,
        0.25,
        "ABC",
        "FIRST",
    )
    assert y.replacements == [("X", "A"), ("Z", "")]


def test_reads_file(tmp_path):
    path = tmp_path / "B-4.yml"
    path.write_text("allowed: '0123'\nexactitude: 0.9\nreplacements:\n  - {from: O, to: '0'}\n")
    y = PlateYaml(path)
    assert (y.scheme, y.version, y.exactitude) == ("B", 4, 0.9)
    assert y.convert("1o2x3") == "1023"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"exactitude": 1}, "allowed"),
        ({"allowed": "A"}, "exactitude"),
        ({"allowed": "A", "exactitude": "x"}, "number"),
        ("just text", "mapping"),
        ({"allowed": "A", "exactitude": 1, "replacements": "A"}, "list"),
    ],
)
def test_invalid_content_raises(content, reason):
    with pytest.raises(PlateYamlError, match=reason):
        PlateYaml("A-1.yml", content)


def test_invalid_file_raises(tmp_path):
    (tmp_path / "A-1.yml").write_text("allowed: [unclosed\n")
    with pytest.raises(PlateYamlError, match="not valid YAML"):
        PlateYaml(tmp_path / "A-1.yml")
    with pytest.raises(PlateYamlError, match="cannot be read"):
        PlateYaml(tmp_path / "A-2.yml")


def test_convert_order_upper_replace_filter():
    y = yaml(allowed="ABC0", replacements=[{"from": "b", "to": "0"}])
    assert y.convert("abcd") == "A0C"


def test_convert_strips_accents_only_when_base_letter_allowed():
    y = yaml(allowed="AEÖ")
    # É -> E (allowed), Ö stays (allowed itself), Ø has no ASCII base -> dropped, Ñ -> N not allowed -> dropped
    assert y.convert("éöøña") == "EÖA"


@pytest.mark.parametrize(
    ("kept", "expected"),
    [("NONE", "AB12C"), ("ALL", "A-B 12.C:"), ("FIRST", "A-B12C"), ("LAST", "AB12C:"), ("bogus", "AB12C")],
)
def test_separators(kept, expected):
    assert yaml(kept).convert("a-b 12.c:") == expected


def test_last_separator_in_the_middle():
    assert yaml("LAST").convert("w-12 3") == "W12 3"
    assert yaml("FIRST").convert("w12") == "W12"


def test_builtin_schemes():
    legacy = PlateYaml("LEGACY-0.yml", BUILTIN_SCHEMES["LEGACY-0.yml"])
    assert legacy.exactitude == 0.0
    assert legacy.convert("Gö-Qä ü o") == "G00AU0"
    d5 = PlateYaml("DEFAULT-5.yml", BUILTIN_SCHEMES["DEFAULT-5.yml"])
    assert (d5.exactitude, d5.convert("go-q 1")) == (0.4, "G0Q1")
    d10 = PlateYaml("DEFAULT-10.yml", BUILTIN_SCHEMES["DEFAULT-10.yml"])
    assert (d10.exactitude, d10.convert("g-ö.o 1")) == (0.6, "GÖO1")
    d20 = PlateYaml("DEFAULT-20.yml", BUILTIN_SCHEMES["DEFAULT-20.yml"])
    assert (d20.exactitude, d20.convert("g-ö.o 1")) == (0.7, "G:ÖO1")

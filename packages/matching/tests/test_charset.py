from __future__ import annotations

import openmodule.utils.charset as charset_module
from openmodule.utils.charset import (
    Charset,
    CharsetConverter,
    Replacement,
    full_lpr_charset,
    legacy_lpr_charset,
)


def test_all_is_complete():
    public = {n for n in vars(charset_module) if not n.startswith("_")} - {
        "annotations",
        "string",
        "BaseModel",
        "ConfigDict",
        "Field",
        "field_validator",
    }
    assert set(charset_module.__all__) == public


def test_replacement_aliases_and_upper_case():
    r = Replacement(**{"from": "ö", "to": "o"})
    assert (r.c_from, r.c_to) == ("Ö", "O")
    assert Replacement(c_from="a", c_to="b").model_dump(by_alias=True) == {"from": "A", "to": "B"}


def test_charset_defaults_and_upper_allowed():
    assert Charset().allowed == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZÄÜÖ_"
    assert Charset().replacements == []
    assert Charset(allowed="abc").allowed == "ABC"


def test_clean_upper_cases_replaces_in_order_and_filters():
    charset = Charset(
        allowed="AB0", replacements=[Replacement(c_from="x", c_to="a"), Replacement(c_from="A", c_to="0")]
    )
    # x -> A first, then every A -> 0; everything not allowed is dropped
    assert CharsetConverter(charset).clean("xab-c!") == "00B"


def test_legacy_charset():
    assert legacy_lpr_charset.allowed == "0123456789ABCDEFGHIJKLMNPRSTUVWXYZ"
    conv = CharsetConverter(legacy_lpr_charset)
    assert conv.clean("g-öq 12") == "G0012"
    assert conv.clean("Ärger Über") == "ARGERUBER"


def test_full_charset():
    assert full_lpr_charset.allowed == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZÄÜÖ"
    conv = CharsetConverter(full_lpr_charset)
    assert conv.clean("w-12.ö q_") == "W12ÖQ"


def test_assignment_is_validated_like_construction():
    charset = Charset(allowed="")
    charset.allowed = "xy-"
    assert charset.allowed == "XY-"
    replacement = Replacement(**{"from": "a", "to": "b"})
    replacement.c_from = "ö"
    replacement.c_to = "o"
    assert (replacement.c_from, replacement.c_to) == ("Ö", "O")
    charset.replacements = [{"from": "ä", "to": "x"}]
    assert isinstance(charset.replacements[0], Replacement) and charset.replacements[0].c_from == "Ä"


def test_converter_follows_a_reassigned_alphabet():
    charset = Charset(allowed="ab")
    converter = CharsetConverter(charset)
    assert converter.clean("abc") == "AB"
    charset.allowed = "bc"
    assert converter.clean("abc") == "BC"

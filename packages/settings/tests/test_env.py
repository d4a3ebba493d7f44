from __future__ import annotations

import pytest

from openmodule import config


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ('"quoted"', "quoted"),
        ("'single'", "single"),
        ("  padded \r\n\t", "padded"),
        ("in ner", "in ner"),
        ("", ""),
    ],
)
def test_string_strips_quotes_and_whitespace(monkeypatch, raw, expected):
    monkeypatch.setenv("X", raw)
    assert config.string("X", "default") == expected


def test_string_default_and_type_check(monkeypatch):
    assert config.string("MISSING", "dflt") == "dflt"
    with pytest.raises(AssertionError):
        config.string("MISSING", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"), [("5", 5), (" 7 ", 7), ("-3", -3), ("5.0", 42), ("abc", 42), ("", 42)]
)
def test_int_parses_or_falls_back(monkeypatch, raw, expected):
    monkeypatch.setenv("X", raw)
    assert config.int("X", 42) == expected


def test_int_rejects_non_int_default():
    assert config.int("MISSING") == 0
    with pytest.raises(AssertionError):
        config.int("MISSING", 1.5)  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        config.int("MISSING", True)


@pytest.mark.parametrize(("raw", "expected"), [("1.5", 1.5), ("3", 3.0), ("x", 2.0), (" 0.25 ", 0.25)])
def test_float(monkeypatch, raw, expected):
    monkeypatch.setenv("X", raw)
    value = config.float("X", 2)
    assert value == expected and isinstance(value, float)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("t", True),
        ("TRUE", True),
        ("1", True),
        ("y", True),
        ("yes", True),
        ("j", True),
        ("Ja", True),
        ("on", True),
        ("'true'", True),
        ('"Yes".', True),
        ("-on-", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("nope", False),
        ("2", False),
    ],
)
def test_bool_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X", raw)
    assert config.bool("X", not expected) is expected


@pytest.mark.parametrize("raw", ["", "  ", "''", "..", "_"])
def test_bool_empty_gives_default(monkeypatch, raw):
    monkeypatch.setenv("X", raw)
    assert config.bool("X", True) is True
    assert config.bool("X", False) is False


def test_bool_rejects_non_bool_default():
    with pytest.raises(AssertionError):
        config.bool("X", 1)  # type: ignore[arg-type]


def test_get_is_raw(monkeypatch):
    monkeypatch.setenv("X", ' "raw" ')
    assert config.get("X") == ' "raw" '
    assert config.get("MISSING") == ""
    assert config.get("MISSING", None) is None

"""Hardening of render: look-alike formula starts and control characters are refused, and a value that cannot
be written names its row and column and leaves nothing of the export behind."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest

from openmodule.utils.csv_export import ColumnDefinition, CsvFormatError, CsvFormatType, check_string, render

T = CsvFormatType
COLUMNS = [ColumnDefinition("Plate", "plate", T.string), ColumnDefinition("Entry", "entry", T.datetime)]
GOOD = {"plate": "G ARIVO1", "entry": dt.datetime(2026, 1, 1, 8, 0)}


@pytest.mark.parametrize(
    "value",
    [
        "\ufeff=1+1",  # byte order mark
        "\u200b=1+1",  # zero-width space
        "\u200d\u200e\u2060@SUM(A1)",  # joiner, direction mark, word joiner
        "\u00ad=1",  # soft hyphen
        "\ufeff \u200b =HYPERLINK()",
        "\uff1d1+1",  # full-width =
        "\ufe66cmd",  # small =
        "\uff20SUM(A1)",  # full-width @
        "\ufe6bx",  # small @
        "\uff0b1+2",  # full-width +
        "\ufe62cmd",  # small +
        "\uff0dA1",  # full-width -
        "\ufe63A1",  # small -
        "\u2212A1",  # minus sign
        "\u3000=1",  # ideographic space
    ],
)
def test_look_alike_formula_starts_are_refused(value: str) -> None:
    with pytest.raises(CsvFormatError, match="formula"):
        check_string(value)


@pytest.mark.parametrize(
    "value", ["a\x0bb", "a\x0cb", "a\x85b", "a\u2028b", "a\u2029b", "a\x00b", "a\x1eb", "a\x7fb", "\x1b[2J"]
)
def test_control_and_separator_characters_are_refused(value: str) -> None:
    with pytest.raises(CsvFormatError, match="TAB, CR or LF, other control characters"):
        check_string(value)


@pytest.mark.parametrize("value", ["a\uff1db", "\u221212,5", "\uff0b", "G\u200bARIVO", "Stra\u00dfe 1"])
def test_harmless_unicode_passes(value: str) -> None:
    assert check_string(value) == value


def _rows(bad: dict[str, object], before: int = 2000) -> list[dict[str, object]]:
    # more rows than one write batch before the bad one: some output was already produced when it fails
    return [dict(GOOD, plate=f"P{i}") for i in range(before)] + [bad]


@pytest.mark.parametrize(
    ("bad", "column", "reason"),
    [
        ({"plate": "G \ud800", "entry": None}, "Plate", "lone surrogate"),
        ({"plate": "X", "entry": dt.datetime.max}, "Entry", "out of the range"),
        ({"plate": "X", "entry": "9999-12-31T23:59:59+00:00"}, "Entry", "out of the range"),
    ],
)
def test_bad_value_to_a_path_leaves_no_file(
    tmp_path: Path, bad: dict[str, object], column: str, reason: str
) -> None:
    target = tmp_path / "export.csv"
    with pytest.raises(CsvFormatError, match=f"row 2000, column '{column}': .*{reason}"):
        render(target, _rows(bad), COLUMNS, timezone="Europe/Vienna")
    assert os.listdir(tmp_path) == []


def test_path_gets_the_whole_export_at_once(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    render(str(target), [GOOD], COLUMNS, timezone="UTC")
    assert target.read_bytes().decode("utf-16-le") == (
        '\ufeff"Plate"\t"Entry"\r\n"G ARIVO1"\t"01.01.2026 08:00:00"\r\n'
    )
    assert os.listdir(tmp_path) == ["export.csv"]


def test_bad_value_truncates_a_file_object_to_where_it_stood(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    with open(target, "wb") as f:
        f.write(b"kept")
        with pytest.raises(CsvFormatError, match="row 2000, column 'Plate'"):
            render(f, _rows({"plate": "\udcff", "entry": None}), COLUMNS)
        assert f.tell() == 4
    assert target.read_bytes() == b"kept"


class _Stream(io.RawIOBase):
    """A write-only stream that cannot seek (a pipe, a socket, an upload)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        chunk = bytes(b)  # type: ignore[call-overload]
        self.data += chunk
        return len(chunk)


def test_stream_gets_nothing_on_error_and_everything_on_success() -> None:
    stream = _Stream()
    with pytest.raises(CsvFormatError, match="row 2000, column 'Entry'"):
        render(stream, _rows({"plate": "X", "entry": dt.datetime.max}), COLUMNS, timezone="Asia/Tokyo")
    assert stream.data == b""
    render(stream, _rows(GOOD), COLUMNS, timezone="UTC")
    text = bytes(stream.data).decode("utf-16-le")
    assert text.count("\r\n") == 2002 and text.startswith('\ufeff"Plate"')


def test_header_that_cannot_be_written_is_named() -> None:
    with pytest.raises(CsvFormatError, match="header of column"):
        render(io.BytesIO(), [], [ColumnDefinition("Plate\ud800", "plate", T.string)])

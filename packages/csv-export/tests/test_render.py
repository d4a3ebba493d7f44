from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import tracemalloc
from decimal import Decimal

import pytest

import openmodule.utils.csv_export as csv_export
from openmodule.config import override_context
from openmodule.utils.csv_export import ColumnDefinition, CsvFormatError, CsvFormatType, render

T = CsvFormatType


class Kind(str, enum.Enum):  # noqa: UP042 - the (str, Enum) form services use
    entry = "entry"
    exit = "exit"


def test_all_is_complete():
    assert {n for n in dir(csv_export) if not n.startswith("_")} - {"annotations"} == set(csv_export.__all__)


def test_exact_bytes():
    buffer = io.BytesIO()
    render(buffer, [{"v": 'x"y'}], [ColumnDefinition("A", "v", T.string)])
    expected = (
        "fffe"  # BOM, UTF-16-LE
        "220041002200"  # "A"
        "0d000a00"  # CRLF
        "2200780022002200790022000d000a00"  # "x""y" CRLF
    )
    assert buffer.getvalue() == bytes.fromhex(expected)


def test_every_format_type(render_text):
    columns = [
        ColumnDefinition("Static", "", T.static_text, default_value="Garage 1"),
        ColumnDefinition("Text", "text", T.string),
        ColumnDefinition("Int as text", "count", T.string),
        ColumnDefinition("Kind", "kind", T.string),
        ColumnDefinition("Number", "number", T.number),
        ColumnDefinition("Flag", "flag", T.number),
        ColumnDefinition("Percent", "percent", T.percentage),
        ColumnDefinition("Time", "time", T.datetime),
        ColumnDefinition("Duration", "duration", T.duration),
        ColumnDefinition("Amount", "cents", T.currency_amount),
        ColumnDefinition("Missing", "nothing", T.currency_amount, default_value=0),
        ColumnDefinition("Empty", "nothing", T.string),
    ]
    rows = [
        {
            "text": 'Say "hi"',
            "count": 7,
            "kind": Kind.exit,
            "number": 1234.5,
            "flag": True,
            "percent": 13.3,
            "time": dt.datetime(2026, 7, 1, 10, 0, 0),
            "duration": dt.timedelta(hours=25, seconds=1, microseconds=999999),
            "cents": 12345,
        },
        {
            "text": "Ümlaut €",
            "count": True,
            "kind": "entry",
            "number": Decimal("-0.50"),
            "flag": False,
            "percent": 100,
            "time": "2026-01-01T12:00:00Z",
            "duration": 59.9,
            "cents": -5,
            "nothing": None,
        },
    ]
    raw, text = render_text(rows, columns)
    assert text == (
        '"Static"\t"Text"\t"Int as text"\t"Kind"\t"Number"\t"Flag"\t"Percent"\t"Time"\t"Duration"\t"Amount"\t'
        '"Missing"\t"Empty"\r\n'
        '"Garage 1"\t"Say ""hi"""\t"7"\t"exit"\t"1234,5"\t"1"\t"13,3%"\t"01.07.2026 12:00:00"\t"25:00:01"\t'
        '"123,45"\t"0,00"\t""\r\n'
        '"Garage 1"\t"Ümlaut €"\t"True"\t"entry"\t"-0,50"\t"0"\t"100%"\t"01.01.2026 13:00:00"\t"0:00:59"\t'
        '"-0,05"\t"0,00"\t""\r\n'
    )
    # A spreadsheet-style consumer (csv module, same dialect) reads back exactly the fields.
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))
    assert parsed[1][1] == 'Say "hi"' and parsed[2][1] == "Ümlaut €"


def test_datetime_across_dst_changes(render_text):
    col = [ColumnDefinition("t", "t", T.datetime)]
    times = [
        dt.datetime(2026, 3, 29, 0, 59, 59),  # last second of CET
        dt.datetime(2026, 3, 29, 1, 0, 0),  # first of CEST: 02:xx does not exist
        dt.datetime(2026, 10, 25, 0, 30),  # 02:30 CEST
        dt.datetime(2026, 10, 25, 1, 30),  # 02:30 CET (the repeated hour)
        dt.datetime(
            2026, 10, 25, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))
        ),  # aware: 21:30 UTC before
        "2026-10-25T01:30:00+00:00",
    ]
    _, text = render_text([{"t": t} for t in times], col)
    assert text.split("\r\n")[1:-1] == [
        '"29.03.2026 01:59:59"',
        '"29.03.2026 03:00:00"',
        '"25.10.2026 02:30:00"',
        '"25.10.2026 02:30:00"',
        '"24.10.2026 23:30:00"',
        '"25.10.2026 02:30:00"',
    ]
    _, text = render_text([{"t": times[1]}], col, timezone="America/New_York")
    assert text.endswith('"28.03.2026 21:00:00"\r\n')


def test_timezone_is_read_at_call_time(render_text):
    col = [ColumnDefinition("t", "t", T.datetime)]
    with override_context(TIMEZONE="UTC"):
        _, text = render_text([{"t": dt.datetime(2026, 1, 1, 0, 0)}], col)
    assert text.endswith('"01.01.2026 00:00:00"\r\n')


def test_unknown_timezone():
    with pytest.raises(ValueError, match="^Mars/Base is no valid timezone$"):
        render(io.BytesIO(), [], [], timezone="Mars/Base")


@pytest.mark.parametrize(
    "value, expected",
    [
        (dt.timedelta(0), "0:00:00"),
        (dt.timedelta(seconds=-90), "-0:01:30"),
        (dt.timedelta(seconds=-0.5), "0:00:00"),
        (dt.timedelta(days=2, seconds=3599), "48:59:59"),
        (3600, "1:00:00"),
        (-3661.9, "-1:01:01"),
    ],
)
def test_duration(render_text, value, expected):
    _, text = render_text([{"d": value}], [ColumnDefinition("d", "d", T.duration)])
    assert text.endswith(f'"{expected}"\r\n')


@pytest.mark.parametrize(
    "column, value",
    [
        (T.currency_amount, True),
        (T.currency_amount, 1.5),
        (T.currency_amount, "100"),
        (T.number, "1"),
        (T.percentage, True),
        (T.datetime, dt.date(2026, 1, 1)),
        (T.datetime, "yesterday"),
        (T.duration, "1:00"),
        (T.string, 1.5),
        (T.string, b"bytes"),
    ],
)
def test_wrong_types_fail(column, value):
    with pytest.raises(CsvFormatError, match="row 1, column 'c'") as info:
        render(io.BytesIO(), [{"c": None}, {"c": value}], [ColumnDefinition("c", "c", column)])
    assert isinstance(info.value, AssertionError)


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "@SUM(A1)",
        "+1+2",
        "-1+2",
        "-A1",
        " =HYPERLINK()",
        "\u00a0\u2003@x",
        "  +cmd|' /C calc'!A0",
        "\t=1",
        "a\rb",
        "line1\nline2",
        "x\ty",
    ],
)
def test_injection_refused(value):
    with pytest.raises(CsvFormatError, match="formula|TAB, CR or LF"):
        render(io.BytesIO(), [{"c": value}], [ColumnDefinition("c", "c", T.string)])


@pytest.mark.parametrize(
    "value", ["+43 (664) 123*45", "-12,5", "- 3.000,00", "-", "a=b", "info@example.com", "", "  plain"]
)
def test_safe_strings_pass(render_text, value):
    _, text = render_text([{"c": value}], [ColumnDefinition("c", "c", T.string)])
    assert text.endswith(f'"{value}"\r\n')


def test_static_text_and_defaults_are_checked_up_front():
    with pytest.raises(CsvFormatError, match="static_text needs a str"):
        ColumnDefinition("s", "s", T.static_text)
    with pytest.raises(CsvFormatError, match="formula"):
        ColumnDefinition("s", "s", T.static_text, default_value="=EVIL()")
    with pytest.raises(CsvFormatError, match="default_value does not suit"):
        ColumnDefinition("s", "s", T.currency_amount, default_value=1.5)
    with pytest.raises(CsvFormatError, match="unknown format type"):
        ColumnDefinition("s", "s", "money")
    assert ColumnDefinition("s", "s", "number").format_type is T.number


def test_objects_are_read_through_dict(render_text):
    class Row:
        __slots__ = ()

    class Event:
        def __init__(self):
            self.plate = "G-123AB"

        @property
        def cents(self):  # properties are not seen, as in the reference
            return 100

    columns = [
        ColumnDefinition("Plate", "plate", T.string),
        ColumnDefinition("Cents", "cents", T.currency_amount),
    ]
    _, text = render_text([Event()], columns)
    assert text == '"Plate"\t"Cents"\r\n"G-123AB"\t""\r\n'
    with pytest.raises(CsvFormatError, match="no __dict__"):
        render(io.BytesIO(), [Row()], columns)


def test_file_object_stays_open_and_usable(tmp_path):
    path = tmp_path / "out.csv"
    with open(path, "wb") as f:
        render(f, [{"a": 1}], [ColumnDefinition("A", "a", T.number)])
        assert not f.closed
        f.write(b"!")
    assert path.read_bytes() == b"\xff\xfe" + '"A"\r\n"1"\r\n'.encode("utf-16-le") + b"!"


class _Sink(io.RawIOBase):
    def __init__(self):
        self.size = 0

    def writable(self):
        return True

    def write(self, b):
        self.size += len(b)
        return len(b)


def _peak(rows: int) -> tuple[int, int]:
    columns = [
        ColumnDefinition("Plate", "plate", T.string),
        ColumnDefinition("Time", "time", T.datetime),
        ColumnDefinition("Amount", "cents", T.currency_amount),
    ]
    start = dt.datetime(2026, 1, 1)
    data = ({"plate": f"G{i}", "time": start + dt.timedelta(seconds=i), "cents": i} for i in range(rows))
    sink = _Sink()
    tracemalloc.start()
    try:
        render(sink, data, columns)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, sink.size


def test_streaming_memory_is_flat():
    small_peak, small_size = _peak(1_000)
    big_peak, big_size = _peak(12_000)
    assert big_size > 11 * small_size
    # 12x the rows must not need noticeably more memory: rows are written in small batches.
    assert big_peak < small_peak + 256 * 1024, (small_peak, big_peak)

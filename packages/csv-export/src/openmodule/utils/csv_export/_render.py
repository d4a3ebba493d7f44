"""``render``: the fixed CSV format of openmodule exports."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openmodule.config import settings

_UTC = _dt.UTC
# Rows are handed to the csv writer in batches: far fewer calls, and memory stays bounded.
_BATCH = 512


class CsvFormatType(StrEnum):
    """How a column's values are formatted. Usage: ``CsvFormatType.currency_amount``"""

    static_text = "static_text"
    string = "string"
    number = "number"
    percentage = "percentage"
    datetime = "datetime"
    duration = "duration"
    currency_amount = "currency_amount"


class CsvFormatError(ValueError, AssertionError):
    """A value cannot be written in its column (wrong type, or a string a spreadsheet would execute).

    Also an ``AssertionError``: the reference asserted, and callers may still catch that.
    """


@dataclass(frozen=True)
class ColumnDefinition:
    """One column: header text, the key/attribute read from each item, its format and a fallback value.

    Usage: ``ColumnDefinition("Amount", "amount_cents", CsvFormatType.currency_amount, default_value=0)``
    """

    name: str
    field_name: str
    format_type: CsvFormatType
    default_value: Any = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "format_type", CsvFormatType(self.format_type))
        except ValueError:
            raise CsvFormatError(
                f"column {self.name!r}: unknown format type {self.format_type!r}, "
                f"use one of {[t.value for t in CsvFormatType]}"
            ) from None
        if self.format_type is CsvFormatType.static_text and not isinstance(self.default_value, str):
            raise CsvFormatError(f"column {self.name!r}: static_text needs a str default_value")
        if self.default_value is not None:
            try:
                _FORMATTERS[self.format_type](self.default_value, _UTC)
            except CsvFormatError as exc:
                raise CsvFormatError(
                    f"column {self.name!r}: default_value does not suit its type: {exc}"
                ) from None


# -- string checks -----------------------------------------------------------------------------------------
_PHONE = re.compile(r"[0-9 *()]*")
_NEGATIVE = re.compile(r"[0-9 *.,]*")
_FORBIDDEN_CHARS = re.compile(r"[\t\r\n]")


def check_string(value: str) -> str:
    """Refuse strings a spreadsheet would run as a formula or that break the row; return it unchanged.

    Refused: TAB, CR or LF anywhere; a first non-blank character ``=`` or ``@``; ``+`` unless the rest is a
    phone number (digits, spaces, ``*``, parentheses); ``-`` unless the rest is a number (digits, spaces, ``*``,
    ``.``, ``,``).
    """
    if _FORBIDDEN_CHARS.search(value):
        raise CsvFormatError(f"{value!r} contains a TAB, CR or LF, which CSV consumers cannot read safely")
    stripped = value.lstrip()
    if not stripped:
        return value
    first = stripped[0]
    if first in "=@":
        raise CsvFormatError(f"{value!r} starts with {first!r}: a spreadsheet would run it as a formula")
    if first == "+" and not _PHONE.fullmatch(stripped, 1):
        raise CsvFormatError(
            f"{value!r} starts with '+' and is not a phone number (digits, spaces, '*', parentheses): "
            "a spreadsheet would run it as a formula"
        )
    if first == "-" and not _NEGATIVE.fullmatch(stripped, 1):
        raise CsvFormatError(
            f"{value!r} starts with '-' and is not a number (digits, spaces, '*', '.', ','): "
            "a spreadsheet would run it as a formula"
        )
    return value


# -- formatters: value (not None) -> field text --------------------------------------------------------------
def _type_error(value: Any, expected: str) -> CsvFormatError:
    return CsvFormatError(f"{value!r} ({type(value).__name__}) is not {expected}")


def _fmt_string(value: Any, zone: Any) -> str:
    if isinstance(value, str):
        if isinstance(value, Enum):
            value = value.value
        return check_string(value)
    if isinstance(value, int):  # bool included, as in the reference: True/False
        return str(value)
    raise _type_error(value, "a str, str enum or int")


def _fmt_number(value: Any, zone: Any) -> str:
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, int | float | Decimal):
        return str(value).replace(".", ",")
    raise _type_error(value, "a number (int, float, Decimal, bool)")


def _fmt_percentage(value: Any, zone: Any) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value).replace(".", ",") + "%"
    raise _type_error(value, "a percentage (int, float, Decimal)")


def _fmt_datetime(value: Any, zone: Any) -> str:
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            raise CsvFormatError(f"{value!r} is not an ISO datetime") from None
    elif not isinstance(value, _dt.datetime):
        raise _type_error(value, "a datetime or ISO datetime string")
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    d = value.astimezone(zone)
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def _fmt_duration(value: Any, zone: Any) -> str:
    if isinstance(value, _dt.timedelta):
        micro = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
        negative = micro < 0
        seconds = abs(micro) // 1_000_000  # truncated towards zero
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise _type_error(value, "a finite duration")
        negative = value < 0
        seconds = int(abs(value))
    else:
        raise _type_error(value, "a duration (timedelta or seconds as int/float)")
    if negative and seconds == 0:
        negative = False
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{'-' if negative else ''}{hours}:{minutes:02d}:{secs:02d}"


def _fmt_currency(value: Any, zone: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _type_error(value, "an amount in cents (int)")
    sign = "-" if value < 0 else ""
    units, cents = divmod(abs(value), 100)
    return f"{sign}{units},{cents:02d}"


_FORMATTERS: dict[CsvFormatType, Callable[[Any, Any], str]] = {
    CsvFormatType.static_text: _fmt_string,
    CsvFormatType.string: _fmt_string,
    CsvFormatType.number: _fmt_number,
    CsvFormatType.percentage: _fmt_percentage,
    CsvFormatType.datetime: _fmt_datetime,
    CsvFormatType.duration: _fmt_duration,
    CsvFormatType.currency_amount: _fmt_currency,
}


def resolve_timezone(timezone: str | None) -> ZoneInfo:
    """The zone for ``timezone`` (default: ``settings.TIMEZONE``, read now); ``ValueError`` if unknown."""
    name = settings.TIMEZONE if timezone is None else timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{name} is no valid timezone") from None


def _column_reader(column: ColumnDefinition, zone: ZoneInfo) -> Callable[[Callable[[str], Any]], str]:
    fmt = _FORMATTERS[column.format_type]
    field = column.field_name
    default = column.default_value
    if column.format_type is CsvFormatType.static_text:
        text = fmt(default, zone)
        return lambda get: text
    default_text = "" if default is None else fmt(default, zone)

    def read(get: Callable[[str], Any]) -> str:
        value = get(field)
        if value is None:
            return default_text
        return fmt(value, zone)

    return read


def render(
    file_object: IO[bytes],
    data: Iterable[Any],
    column_definitions: list[ColumnDefinition],
    timezone: str | None = None,
) -> None:
    """Write ``data`` as CSV to the binary ``file_object``, streaming (memory does not grow with the rows).

    Format: UTF-16-LE with BOM, TAB delimiter, every field quoted, CRLF; a header row of column names, then
    one row per item. Items are dicts or objects (read through their ``__dict__``). ``timezone`` defaults to
    ``settings.TIMEZONE`` at call time. A value that does not suit its column raises ``CsvFormatError``
    naming row and column; rows before it are already written, so discard the file then.

    Usage::

        with open("/tmp/export.csv", "wb") as f:
            render(f, rows, [ColumnDefinition("Plate", "plate", CsvFormatType.string)])
    """
    zone = resolve_timezone(timezone)
    readers = [_column_reader(column, zone) for column in column_definitions]
    text = io.TextIOWrapper(file_object, encoding="utf-16-le", newline="", write_through=False)
    try:
        writer = csv.writer(text, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        text.write("\ufeff")
        writer.writerow([column.name for column in column_definitions])
        batch: list[list[str]] = []
        index = 0
        for index, item in enumerate(data):
            get = item.get if type(item) is dict else _getter(item)
            try:
                batch.append([read(get) for read in readers])
            except CsvFormatError as exc:
                column = _failing_column(readers, column_definitions, get)
                raise CsvFormatError(f"row {index}, column {column!r}: {exc}") from None
            if len(batch) >= _BATCH:
                writer.writerows(batch)
                batch.clear()
        if batch:
            writer.writerows(batch)
        text.flush()
    finally:
        # Hand the caller's file back open: the wrapper must not close it.
        text.detach()


def _getter(item: Any) -> Callable[[str], Any]:
    if isinstance(item, dict):
        return item.get
    try:
        return vars(item).get
    except TypeError:
        raise CsvFormatError(
            f"{type(item).__name__} items have no __dict__: pass dicts or plain objects"
        ) from None


def _failing_column(
    readers: list[Callable[[Callable[[str], Any]], str]], columns: list[ColumnDefinition], get: Any
) -> str:
    for read, column in zip(readers, columns, strict=True):
        try:
            read(get)
        except CsvFormatError:
            return column.name
    return "?"

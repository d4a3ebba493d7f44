"""``render``: the fixed CSV format of openmodule exports."""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
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
# A stream that cannot seek gets the export only when it is complete; up to this many bytes wait in memory,
# the rest in a temporary file.
_SPOOL = 64 * 1024


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
# Control characters (C0 with TAB/CR/LF/VT/FF/NUL, DEL, C1 with NEL) and the Unicode line and paragraph
# separators: CSV readers and spreadsheets split rows on several of them or drop them silently. Lone
# surrogates too (one search for the usual cell): no encoding can write them.
_FORBIDDEN_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Look-alikes a spreadsheet or a converting import may read as a formula start; NFKC maps the full-width and
# small forms (U+FF1D, U+FE66, ...) to ASCII, these are the ones it leaves alone.
_FORMULA_LOOKALIKES = {"\u2212": "-", "\u2796": "-", "\u2795": "+", "\u02d7": "-"}


def _invisible(char: str) -> bool:
    # whitespace, and format characters that render as nothing: BOM U+FEFF, zero-width space U+200B,
    # joiners, direction marks, word joiner, soft hyphen ...
    return char.isspace() or unicodedata.category(char) in ("Cf", "Zs", "Zl", "Zp")


def _formula_char(char: str) -> str:
    mapped = _FORMULA_LOOKALIKES.get(char)
    if mapped is not None:
        return mapped
    normal = unicodedata.normalize("NFKC", char)
    return normal[0] if len(normal) == 1 else char


def check_string(value: str) -> str:
    """Refuse strings a spreadsheet would run as a formula or that break the row; return it unchanged.

    Refused: control characters anywhere (TAB, CR, LF, VT, FF, NUL, NEL, ...), U+2028/U+2029 and lone
    surrogates; and, after any leading whitespace or invisible format characters (BOM, zero-width space, ...),
    a first character that is ``=`` or ``@`` or a look-alike of them (full-width ``＝``, small ``﹫``, ...);
    ``+`` (or a look-alike) unless the rest is a phone number (digits, spaces, ``*``, parentheses); ``-`` (or
    a look-alike such as U+2212) unless the rest is a number (digits, spaces, ``*``, ``.``, ``,``).

    Usage: ``check_string(row.plate)``
    """
    bad = _FORBIDDEN_CHARS.search(value)
    if bad and _SURROGATE.fullmatch(bad.group()):
        raise CsvFormatError(f"{value!r} contains a lone surrogate, which no Unicode encoding can write")
    if bad:
        raise CsvFormatError(
            f"{value!r} contains {bad.group()!r}: TAB, CR or LF, other control characters and the line "
            "separators U+2028/U+2029 are refused, CSV consumers cannot read them safely"
        )
    first_char = value[:1]
    if first_char.isascii() and first_char.isalnum():  # the usual cell: nothing a formula could start with
        return value
    start = 0
    while start < len(value) and _invisible(value[start]):
        start += 1
    if start == len(value):
        return value
    first = _formula_char(value[start])
    rest = value[start + 1 :]
    if first in "=@":
        raise CsvFormatError(
            f"{value!r} starts with {value[start]!r}: a spreadsheet would run it as a formula"
        )
    if first == "+" and not _PHONE.fullmatch(rest):
        raise CsvFormatError(
            f"{value!r} starts with {value[start]!r} and is not a phone number (digits, spaces, '*', "
            "parentheses): a spreadsheet would run it as a formula"
        )
    if first == "-" and not _NEGATIVE.fullmatch(rest):
        raise CsvFormatError(
            f"{value!r} starts with {value[start]!r} and is not a number (digits, spaces, '*', '.', ','): "
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
    try:
        d = value.astimezone(zone)
    except (OverflowError, ValueError):
        # datetime.max in UTC is past the end of the calendar in any zone east of it
        raise CsvFormatError(f"{value!r} is out of the range of datetimes in {zone}") from None
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
    file_object: IO[bytes] | str | os.PathLike[str],
    data: Iterable[Any],
    column_definitions: list[ColumnDefinition],
    timezone: str | None = None,
) -> None:
    """Write ``data`` as CSV to ``file_object`` (a binary file object, or a path), streaming.

    Format: UTF-16-LE with BOM, TAB delimiter, every field quoted, CRLF; a header row of column names, then
    one row per item. Items are dicts or objects (read through their ``__dict__``). ``timezone`` defaults to
    ``settings.TIMEZONE`` at call time.

    A value that does not suit its column raises ``CsvFormatError`` naming row and column, and nothing of the
    export is left: a path is written to a hidden temporary file in the same folder and renamed when complete
    (on an error there is no file); a seekable file object is truncated back to where it stood; a stream
    that cannot seek gets the bytes only once every row is formatted (staged in a temporary file).

    Usage::

        render("/tmp/export.csv", rows, [ColumnDefinition("Plate", "plate", CsvFormatType.string)])
        with open("/tmp/export.csv", "wb") as f:
            render(f, rows, columns)
    """
    zone = resolve_timezone(timezone)
    for column in column_definitions:
        try:
            check_string(column.name)
        except CsvFormatError as exc:
            raise CsvFormatError(f"header of column {column.name!r}: {exc}") from None
    if isinstance(file_object, str | os.PathLike):
        _render_to_path(os.fspath(file_object), data, column_definitions, zone)
        return
    start = _position(file_object)
    if start is None:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as staged:
            _render(staged, data, column_definitions, zone)
            staged.seek(0)
            shutil.copyfileobj(staged, file_object, _SPOOL)
        return
    try:
        _render(file_object, data, column_definitions, zone)
    except BaseException:
        file_object.truncate(start)
        file_object.seek(start)
        raise


def _position(file_object: IO[bytes]) -> int | None:
    """Where a seekable file object stands (the place to truncate back to), ``None`` for a stream."""
    try:
        if not file_object.seekable():
            return None
        return file_object.tell()
    except (AttributeError, OSError, ValueError):
        return None


def _render_to_path(path: str, data: Iterable[Any], columns: list[ColumnDefinition], zone: ZoneInfo) -> None:
    folder, name = os.path.split(os.path.abspath(path))
    # hidden and unique: a consumer watching the folder ignores it, concurrent exports never share it
    tmp = os.path.join(folder, f".{name[:200]}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            _render(f, data, columns, zone)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _render(
    file_object: IO[bytes], data: Iterable[Any], column_definitions: list[ColumnDefinition], zone: ZoneInfo
) -> None:
    readers = [_column_reader(column, zone) for column in column_definitions]
    text = io.TextIOWrapper(file_object, encoding="utf-16-le", newline="", write_through=False)
    try:
        writer = csv.writer(text, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        text.write("\ufeff")
        writer.writerow([column.name for column in column_definitions])
        batch: list[list[str]] = []
        index = 0
        for index, item in enumerate(data):
            try:
                get = item.get if type(item) is dict else _getter(item)
                batch.append([read(get) for read in readers])
            except Exception as exc:
                raise _row_error(index, item, readers, column_definitions, exc) from None
            if len(batch) >= _BATCH:
                writer.writerows(batch)
                batch.clear()
        if batch:
            writer.writerows(batch)
        text.flush()
    finally:
        # Hand the caller's file back open: the wrapper must not close it (detach flushes what it holds).
        text.detach()


def _row_error(
    index: int,
    item: Any,
    readers: list[Callable[[Callable[[str], Any]], str]],
    columns: list[ColumnDefinition],
    exc: Exception,
) -> CsvFormatError:
    # Any failure while formatting a row (a formatter's CsvFormatError, or whatever a value's own methods
    # raise) names the row and the column, so the caller can find the record.
    if not isinstance(exc, CsvFormatError):
        exc = CsvFormatError(f"{type(exc).__name__}: {exc}")
    try:
        get = item.get if type(item) is dict else _getter(item)
    except CsvFormatError:
        return CsvFormatError(f"row {index}: {exc}")
    return CsvFormatError(f"row {index}, column {_failing_column(readers, columns, get)!r}: {exc}")


def _getter(item: Any) -> Callable[[str], Any]:
    if isinstance(item, dict):
        get: Callable[[str], Any] = item.get
        return get
    try:
        attributes: dict[str, Any] = vars(item)
        return attributes.get
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
        except Exception:
            return column.name
    return "?"

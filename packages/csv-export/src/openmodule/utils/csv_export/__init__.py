"""openmodule.utils.csv_export: CSV exports in the format deployed consumers read.

Format (fixed): UTF-16-LE with BOM, TAB delimiter, every field quoted, CRLF line ends, decimal comma,
datetimes as ``DD.MM.YYYY HH:MM:SS`` in the configured time zone. Strings a spreadsheet would execute are refused.

Usage::

    from openmodule.utils.csv_export import ColumnDefinition, CsvFormatType, render

    columns = [
        ColumnDefinition("Plate", "plate", CsvFormatType.string),
        ColumnDefinition("Entry", "entry", CsvFormatType.datetime),
        ColumnDefinition("Paid", "cents", CsvFormatType.currency_amount, default_value=0),
    ]
    with open("/tmp/export.csv", "wb") as f:
        render(f, rows, columns)
"""

from __future__ import annotations

from openmodule.utils.csv_export._export import ExportIterator, export_iterator, schedule_export
from openmodule.utils.csv_export._render import (
    ColumnDefinition,
    CsvFormatError,
    CsvFormatType,
    check_string,
    render,
    resolve_timezone,
)

__all__ = [
    "ColumnDefinition",
    "CsvFormatError",
    "CsvFormatType",
    "ExportIterator",
    "check_string",
    "export_iterator",
    "render",
    "resolve_timezone",
    "schedule_export",
]

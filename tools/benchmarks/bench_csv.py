"""CSV export throughput and peak memory for 1,000,000 rows, beside the stdlib csv writer.

Each case runs in a fresh subprocess (so its peak RSS is its own) writing to /dev/null:
- ours: ``openmodule.utils.csv_export.render`` with 6 columns (string, datetime in Europe/Vienna, duration,
  currency, number, static text), rows from a generator;
- baseline: ``csv.writer`` (same dialect: UTF-16-LE, TAB, QUOTE_ALL, CRLF) writing ``str()`` of the same
  values, no formatting or checks.
Peak memory is the process' max RSS; "flat" means it does not grow with the row count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

ROWS_FULL = 1_000_000
ROWS_QUICK = 100_000


def _rows(n: int) -> Any:
    import datetime as dt

    start = dt.datetime(2026, 3, 28, 12, 0)
    step = dt.timedelta(seconds=7)
    for i in range(n):
        yield {
            "plate": f"G-{i:07d}",
            "entry": start + step * i,
            "duration": dt.timedelta(seconds=i % 90000),
            "cents": i * 13,
            "rate": i / 7,
        }


def _worker(case: str, n: int) -> dict[str, float]:
    import csv
    import io
    import os
    import resource
    import time
    import types

    from openmodule.config import settings

    settings.configure(types.SimpleNamespace(NAME="bench", TIMEZONE="Europe/Vienna"))
    with open(os.devnull, "wb") as sink:
        begin = time.perf_counter()
        if case == "ours":
            from openmodule.utils.csv_export import ColumnDefinition, CsvFormatType, render

            T = CsvFormatType
            columns = [
                ColumnDefinition("Garage", "", T.static_text, default_value="Garage 1"),
                ColumnDefinition("Plate", "plate", T.string),
                ColumnDefinition("Entry", "entry", T.datetime),
                ColumnDefinition("Parked", "duration", T.duration),
                ColumnDefinition("Paid", "cents", T.currency_amount),
                ColumnDefinition("Rate", "rate", T.number),
            ]
            render(sink, _rows(n), columns)
        else:
            text = io.TextIOWrapper(sink, encoding="utf-16-le", newline="")
            writer = csv.writer(text, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            text.write("\ufeff")
            writer.writerow(["Garage", "Plate", "Entry", "Parked", "Paid", "Rate"])
            for row in _rows(n):
                writer.writerow(
                    [
                        "Garage 1",
                        row["plate"],
                        str(row["entry"]),
                        str(row["duration"]),
                        str(row["cents"]),
                        str(row["rate"]),
                    ]
                )
            text.flush()
            text.detach()
        elapsed = time.perf_counter() - begin
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows_per_s": n / elapsed, "peak_mb": peak_mb}


def _measure(case: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", case, str(n)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> list[dict[str, Any]]:
    n = ROWS_QUICK if quick else ROWS_FULL
    ours = _measure("ours", n)
    base = _measure("baseline", n)
    small = _measure("ours", n // 10)
    rate_ratio = ours["rows_per_s"] / base["rows_per_s"]
    return [
        {
            "benchmark": "csv",
            "case": f"render {n:,} rows (6 formatted columns)",
            "value": round(ours["rows_per_s"]),
            "unit": "rows/s",
            "baseline_case": "stdlib csv.writer, same dialect, str() values",
            "baseline_value": round(base["rows_per_s"]),
            "target": ">= 33% of baseline (render formats, converts time zones and checks every string)",
            "met": rate_ratio >= 0.33,
        },
        {
            "benchmark": "csv",
            "case": f"peak RSS render {n:,} rows",
            "value": round(ours["peak_mb"], 1),
            "unit": "MB",
            "baseline_case": f"peak RSS render {n // 10:,} rows (flat = no growth with rows)",
            "baseline_value": round(small["peak_mb"], 1),
            "target": "<= 10x-rows run + 10 MB (streaming)",
            "met": ours["peak_mb"] <= small["peak_mb"] + 10,
        },
        {
            "benchmark": "csv",
            "case": f"peak RSS stdlib csv.writer {n:,} rows",
            "value": round(base["peak_mb"], 1),
            "unit": "MB",
            "baseline_case": "",
            "baseline_value": None,
            "target": "reference only",
            "met": None,
        },
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(_worker(sys.argv[2], int(sys.argv[3]))))
    else:
        for result in run(quick="--quick" in sys.argv):
            print(result)

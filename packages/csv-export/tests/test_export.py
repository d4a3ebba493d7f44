from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz

from openmodule.config import override_context
from openmodule.utils.csv_export import ExportIterator, export_iterator, schedule_export
from openmodule.utils.schedule import Scheduler

VIENNA = ZoneInfo("Europe/Vienna")


def days(*args, **kw):
    return list(export_iterator(*args, **kw))


def test_dst_days_are_23_and_25_hours():
    result = days(VIENNA, None, dt.datetime(2026, 3, 28, 10), utc_now=dt.datetime(2026, 3, 31, 12))
    assert result == [
        ExportIterator(
            "2026-03-28",
            dt.datetime(2026, 3, 28),
            dt.datetime(2026, 3, 29),
            dt.datetime(2026, 3, 27, 23),
            dt.datetime(2026, 3, 28, 23),
        ),
        ExportIterator(
            "2026-03-29",
            dt.datetime(2026, 3, 29),
            dt.datetime(2026, 3, 30),
            dt.datetime(2026, 3, 28, 23),
            dt.datetime(2026, 3, 29, 22),
        ),  # 23 h
        ExportIterator(
            "2026-03-30",
            dt.datetime(2026, 3, 30),
            dt.datetime(2026, 3, 31),
            dt.datetime(2026, 3, 29, 22),
            dt.datetime(2026, 3, 30, 22),
        ),
    ]
    autumn = days(VIENNA, None, dt.datetime(2026, 10, 24, 22, 30), utc_now=dt.datetime(2026, 10, 26, 0, 0))
    assert [(d.csv_date_string, d.utc_start, d.utc_end) for d in autumn] == [
        ("2026-10-25", dt.datetime(2026, 10, 24, 22), dt.datetime(2026, 10, 25, 23)),  # 25 h
    ]


def test_only_complete_days():
    # Local now 2026-06-02 00:00 exactly: June 1st is complete (its end is not after now).
    result = days(VIENNA, None, dt.datetime(2026, 5, 31, 22), utc_now=dt.datetime(2026, 6, 1, 22))
    assert [d.csv_date_string for d in result] == ["2026-06-01"]
    assert days(VIENNA, None, dt.datetime(2026, 5, 31, 22), utc_now=dt.datetime(2026, 6, 1, 21, 59)) == []


def test_continues_after_last_export():
    last = dt.datetime(2026, 3, 28, 23)  # utc_start of 2026-03-29 (local midnight)
    result = days(VIENNA, last, dt.datetime(2020, 1, 1), utc_now=dt.datetime(2026, 4, 1, 9))
    assert [d.csv_date_string for d in result] == ["2026-03-30", "2026-03-31"]
    # Callers store utc_start of the last day and resume from it without gaps or overlaps.
    again = days(VIENNA, result[-1].utc_start, None, utc_now=dt.datetime(2026, 4, 3, 9))
    assert [d.csv_date_string for d in again] == ["2026-04-01", "2026-04-02"]
    assert again[0].utc_start == result[-1].utc_end


def test_last_export_must_be_midnight():
    with pytest.raises(AssertionError, match="not at midnight"):
        days(VIENNA, dt.datetime(2026, 3, 28, 22), None, utc_now=dt.datetime(2026, 4, 1))


def test_new_system_exports_empty_yesterday():
    result = days(VIENNA, None, None, utc_now=dt.datetime(2026, 7, 10, 12))
    assert [d.csv_date_string for d in result] == ["2026-07-09"]


def test_naive_utc_required_and_any_tzinfo():
    with pytest.raises(AssertionError):
        days(VIENNA, None, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    vienna_dateutil = dateutil_tz.gettz("Europe/Vienna")
    a = days(vienna_dateutil, None, dt.datetime(2026, 3, 28, 10), utc_now=dt.datetime(2026, 3, 31, 12))
    b = days(VIENNA, None, dt.datetime(2026, 3, 28, 10), utc_now=dt.datetime(2026, 3, 31, 12))
    assert a == b


def test_schedule_export_offset():
    expected_random = int(hashlib.sha256(b"device-4711").hexdigest(), 16) % 60
    assert schedule_export(0) == expected_random
    assert schedule_export(59) == 59 + expected_random
    with override_context(RESOURCE="other-device"):
        assert schedule_export(10) == 10 + int(hashlib.sha256(b"other-device").hexdigest(), 16) % 60
    with pytest.raises(AssertionError):
        schedule_export(60)


def test_schedule_export_registers_daily_job_in_local_time():
    scheduler = Scheduler()
    minutes = schedule_export(45, scheduler, lambda: None)
    (job,) = scheduler.jobs
    assert job.unit == "days"
    assert job.at_time == dt.time(minutes // 60, minutes % 60)
    assert job.at_time_zone == dateutil_tz.gettz("Europe/Vienna")
    assert (
        schedule_export(45, scheduler) == minutes and len(scheduler.jobs) == 1
    )  # no callback: nothing added

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from openmodule.models.access_service import AccessTime

WEEKDAYS_8_TO_10 = (
    "DTSTART:20240101T070000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"  # 07:00 UTC = 08:00 Vienna
)


def test_start_end_inclusive_and_open():
    t = AccessTime(start=datetime(2024, 1, 1), end=datetime(2024, 1, 2))
    assert t.is_valid_at(datetime(2024, 1, 1), "UTC") and t.is_valid_at(datetime(2024, 1, 2), "UTC")
    assert not t.is_valid_at(datetime(2024, 1, 2, 0, 0, 1), "UTC")
    assert AccessTime(end=datetime(2024, 1, 2)).is_valid_at(datetime(2000, 1, 1), "UTC")
    assert AccessTime().is_valid_at(datetime(2000, 1, 1), "UTC")
    aware = datetime(2024, 1, 2, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # 2024-01-01 23:00 UTC
    assert t.is_valid_at(aware, "UTC")


def test_recurrence_in_local_wall_time():
    t = AccessTime(recurrence=WEEKDAYS_8_TO_10, duration=2 * 3600)
    # Monday 2024-01-08, Vienna is UTC+1 in winter: the window is 08:00-10:00 local = 07:00-09:00 UTC
    assert t.is_valid_at(datetime(2024, 1, 8, 7, 0), "Europe/Vienna")
    assert t.is_valid_at(datetime(2024, 1, 8, 8, 59), "Europe/Vienna")
    assert not t.is_valid_at(datetime(2024, 1, 8, 9, 0), "Europe/Vienna")
    assert not t.is_valid_at(datetime(2024, 1, 8, 6, 59), "Europe/Vienna")
    assert not t.is_valid_at(datetime(2024, 1, 6, 7, 30), "Europe/Vienna")  # Saturday
    # in summer the window stays 08:00-10:00 local wall time = 06:00-08:00 UTC
    assert t.is_valid_at(datetime(2024, 7, 1, 6, 30), "Europe/Vienna")
    assert not t.is_valid_at(datetime(2024, 7, 1, 8, 30), "Europe/Vienna")
    assert not t.is_valid_at(datetime(2023, 12, 29, 7, 30, tzinfo=UTC), "Europe/Vienna")  # before DTSTART


def test_dst_change_inside_the_window_widens_it():
    # daily 00:30 UTC (01:30 Vienna) for 2 hours, across the spring DST change
    t = AccessTime(recurrence="DTSTART:20240301T003000\nRRULE:FREQ=DAILY", duration=2 * 3600)
    # 2024-03-31: clocks jump 02:00 -> 03:00 local; window 01:30 local + 2h wall = 03:30, widened to 04:30
    assert t.is_valid_at(datetime(2024, 3, 31, 2, 15), "Europe/Vienna")  # 04:15 local (CEST)
    assert not t.is_valid_at(datetime(2024, 3, 31, 2, 45), "Europe/Vienna")  # 04:45 local


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"recurrence": WEEKDAYS_8_TO_10}, "duration"),
        ({"recurrence": "RRULE:FREQ=DAILY", "duration": 1}, "DTSTART"),
        ({"recurrence": "DTSTART:20240101T000000\nRRULE:FREQ=SOMETIMES", "duration": 1}, "RFC 5545"),
    ],
)
def test_invalid_recurrence(kwargs, reason):
    with pytest.raises(ValidationError, match=reason):
        AccessTime(**kwargs)

"""Which days to export (``export_iterator``) and when (``schedule_export``)."""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from openmodule.config import settings

_UTC = _dt.UTC
_DAY = _dt.timedelta(days=1)


@dataclass
class ExportIterator:
    """One complete local day to export; filter events with ``utc_start <= t < utc_end``.

    All datetimes are naive: ``local_*`` in the export's zone, ``utc_*`` in UTC.
    """

    csv_date_string: str
    local_start: _dt.datetime
    local_end: _dt.datetime
    utc_start: _dt.datetime
    utc_end: _dt.datetime


def _utc_to_local(moment: _dt.datetime, timezone: _dt.tzinfo) -> _dt.datetime:
    return moment.replace(tzinfo=_UTC).astimezone(timezone).replace(tzinfo=None)


def _local_to_utc(moment: _dt.datetime, timezone: _dt.tzinfo) -> _dt.datetime:
    return moment.replace(tzinfo=timezone).astimezone(_UTC).replace(tzinfo=None)


def export_iterator(
    timezone: _dt.tzinfo,
    utc_last_export_start: _dt.datetime | None,
    utc_min_event_time: _dt.datetime | None,
    *,
    utc_now: _dt.datetime | None = None,
) -> Iterator[ExportIterator]:
    """Yield each complete local calendar day not exported yet (DST days are 23 or 25 hours long).

    With ``utc_last_export_start`` (the ``utc_start`` of the last exported day, a local midnight) iteration
    starts the day after; otherwise at the local day of ``utc_min_event_time`` (or of yesterday when there are
    no events). Only days whose local end is not after now are yielded. ``utc_now`` (naive UTC) exists for
    tests and replays; default: the current time.

    Usage::

        for day in export_iterator(ZoneInfo("Europe/Vienna"), state.last_start, first_event_time):
            write_export(day.csv_date_string, events_between(day.utc_start, day.utc_end))
            state.last_start = day.utc_start
    """
    assert isinstance(timezone, _dt.tzinfo), "timezone must be a tzinfo (e.g. ZoneInfo('Europe/Vienna'))"
    for name, value in (
        ("utc_last_export_start", utc_last_export_start),
        ("utc_min_event_time", utc_min_event_time),
    ):
        assert value is None or value.tzinfo is None, f"{name} must be a naive UTC datetime"
    if utc_now is None:
        utc_now = _dt.datetime.now(_UTC).replace(tzinfo=None)
    assert utc_now.tzinfo is None, "utc_now must be a naive UTC datetime"
    local_now = _utc_to_local(utc_now, timezone)

    if utc_last_export_start is not None:
        last_local = _utc_to_local(utc_last_export_start, timezone)
        assert last_local.time() == _dt.time(0), (
            f"utc_last_export_start {utc_last_export_start} is not at midnight in {timezone}"
        )
        day = last_local.date() + _DAY
    else:
        base = utc_min_event_time if utc_min_event_time is not None else utc_now - _DAY
        day = _utc_to_local(base, timezone).date()

    while True:
        local_start = _dt.datetime.combine(day, _dt.time(0))
        local_end = local_start + _DAY  # wall-clock step: the next local midnight
        if local_end > local_now:
            return
        yield ExportIterator(
            csv_date_string=day.isoformat(),
            local_start=local_start,
            local_end=local_end,
            utc_start=_local_to_utc(local_start, timezone),
            utc_end=_local_to_utc(local_end, timezone),
        )
        day += _DAY


def schedule_export(
    offset_minutes: int = 0, scheduler: Any = None, callback: Callable[[], Any] | None = None
) -> int:
    """Minutes after local midnight at which this device runs its daily export; schedule it if asked.

    The minute is ``offset_minutes`` plus a per-device offset (SHA-256 of ``settings.RESOURCE`` modulo 60), so
    many devices spread their uploads over an hour. With ``scheduler`` (an
    ``openmodule.utils.schedule.Scheduler``) and ``callback``, ``callback`` runs daily at that local time in
    ``settings.TIMEZONE``.

    Usage: ``schedule_export(30, scheduler, run_export)``
    """
    assert offset_minutes < 60, "offset_minutes must be below 60"
    random_offset = int(hashlib.sha256(settings.RESOURCE.encode("utf-8")).hexdigest(), 16) % 60
    minutes = offset_minutes + random_offset
    if scheduler is not None and callback is not None:
        scheduler.every().day.at(f"{minutes // 60:02d}:{minutes % 60:02d}", settings.TIMEZONE).do(callback)
    return minutes

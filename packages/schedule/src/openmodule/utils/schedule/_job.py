"""``Job`` and ``Scheduler`` of the schedule library with dateutil time zones in ``at()``."""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Callable, Hashable
from typing import Any

from dateutil import tz as _tz

import schedule as _upstream

ScheduleError = _upstream.ScheduleError
ScheduleValueError = _upstream.ScheduleValueError
IntervalError = _upstream.IntervalError
CancelJob = _upstream.CancelJob

_UTC = _dt.UTC
_SUB_DAY_UNITS = ("seconds", "minutes", "hours")


def _now() -> _dt.datetime:
    """The current instant (aware, UTC). Tests replace it to travel through DST changes."""
    return _dt.datetime.now(_UTC)


def _to_scheduler_clock(moment: _dt.datetime) -> _dt.datetime:
    # The scheduler compares ``next_run`` with naive system-local ``datetime.now()`` (schedule's API).
    return moment.astimezone(_tz.tzlocal()).replace(tzinfo=None)


def _scheduler_now() -> _dt.datetime:
    return _to_scheduler_clock(_now())


def _resolve_tz(tz: Any) -> _dt.tzinfo:
    if isinstance(tz, str):
        zone: _dt.tzinfo | None = _tz.gettz(tz)
        if zone is None:
            raise KeyError("Unknown timezone")
        return zone
    if isinstance(tz, _dt.tzinfo):
        return tz
    raise ScheduleValueError("Timezone must be a time-zone name (str) or a dateutil tz object")


def _wall_to_instant(wall: _dt.datetime, zone: _dt.tzinfo) -> _dt.datetime:
    """A naive local wall time in ``zone`` as an aware UTC instant.

    A wall time that does not exist (spring-forward gap) moves forward by the gap (02:30 -> 03:30); an
    ambiguous one (fall-back) is its first occurrence, so a daily job runs once that day.
    """
    aware: _dt.datetime = _tz.resolve_imaginary(wall.replace(tzinfo=zone, fold=0))
    return aware.astimezone(_UTC)


class Job(_upstream.Job):
    """A periodic job; ``at(time_str, tz)`` pins it to a wall time in a time zone.

    Usage: ``scheduler.every().day.at("02:30", "Europe/Vienna").do(job)``
    """

    at_time_zone: Any

    def at(self, time_str: str, tz: str | _dt.tzinfo | None = None) -> Job:
        """Run at ``time_str``: ``HH:MM[:SS]`` for daily/weekday jobs, ``MM:SS`` or ``:MM`` for hourly jobs,
        ``:SS`` for minutely jobs. ``tz`` is a zone name (``dateutil.tz.gettz``) or a tz object; an unknown
        name raises ``KeyError("Unknown timezone")``.

        Usage: ``every().monday.at("06:00", "Europe/Vienna").do(job)``
        """
        zone = _resolve_tz(tz) if tz is not None else None
        super().at(time_str)
        if zone is not None:
            self.at_time_zone = zone
        return self

    @property
    def should_run(self) -> bool:
        assert self.next_run is not None, "must run _schedule_next_run before"
        return _scheduler_now() >= self.next_run

    def run(self) -> Any:
        if self._is_overdue(_scheduler_now()):
            return CancelJob
        assert self.job_func is not None
        ret = self.job_func()
        self.last_run = _scheduler_now()
        self._schedule_next_run()
        assert self.next_run is not None
        if self._is_overdue(self.next_run):
            return CancelJob
        return ret

    def _schedule_next_run(self) -> None:
        if self.unit not in ("seconds", "minutes", "hours", "days", "weeks"):
            raise ScheduleValueError(
                "Invalid unit (valid units are `seconds`, `minutes`, `hours`, `days`, and `weeks`)"
            )
        if self.latest is not None:
            if not (self.latest >= self.interval):
                raise ScheduleError("`latest` is greater than `interval`")
            interval = random.randint(self.interval, self.latest)
        else:
            interval = self.interval
        if self.start_day is not None and self.unit != "weeks":
            raise ScheduleValueError("`unit` should be 'weeks'")

        zone = self.at_time_zone if self.at_time_zone is not None else _tz.tzlocal()
        now = _now()
        period = _dt.timedelta(**{self.unit: interval})

        if self.unit in _SUB_DAY_UNITS:
            # Sub-day periods are spans of real time: an hourly job runs 24 times on a 25 h day too.
            local = now.astimezone(zone)
            if self.at_time is not None:
                minute = self.at_time.minute if self.unit == "hours" else local.minute
                local = local.replace(minute=minute, second=self.at_time.second, microsecond=0)
            candidate = local.astimezone(_UTC)
            if interval != 1:
                candidate += period
            while candidate <= now:
                candidate += period
        else:
            # Days and weeks are calendar steps in the zone's wall time: 02:30 stays 02:30 across DST.
            wall = now.astimezone(zone).replace(tzinfo=None)
            if self.start_day is not None:
                wall = _upstream._move_to_next_weekday(wall, self.start_day)
            if self.at_time is not None:
                wall = wall.replace(
                    hour=self.at_time.hour,
                    minute=self.at_time.minute,
                    second=self.at_time.second,
                    microsecond=0,
                )
            if interval != 1:
                wall += period
            while _wall_to_instant(wall, zone) <= now:
                wall += period
            candidate = _wall_to_instant(wall, zone)
        self.next_run = _to_scheduler_clock(candidate)


class Scheduler(_upstream.Scheduler):
    """Keeps jobs and runs the due ones; ``every()`` creates time-zone aware ``Job``s.

    Usage::

        scheduler = Scheduler()
        scheduler.every().day.at("02:30", "Europe/Vienna").do(job)
        scheduler.run_pending()
    """

    def every(self, interval: int = 1) -> Job:
        return Job(interval, self)

    @property
    def idle_seconds(self) -> float | None:
        # schedule's Scheduler.next_run is a property() object, untyped to mypy.
        next_run: _dt.datetime | None = self.next_run
        if not next_run:
            return None
        return (next_run - _scheduler_now()).total_seconds()


default_scheduler = Scheduler()
jobs = default_scheduler.jobs


def every(interval: int = 1) -> Job:
    """``default_scheduler.every(interval)``. Usage: ``every(10).minutes.do(job)``"""
    return default_scheduler.every(interval)


def run_pending() -> None:
    """Run the due jobs of the default scheduler."""
    default_scheduler.run_pending()


def run_all(delay_seconds: int = 0) -> None:
    """Run every job of the default scheduler now."""
    default_scheduler.run_all(delay_seconds=delay_seconds)


def get_jobs(tag: Hashable | None = None) -> list[_upstream.Job]:
    """Jobs of the default scheduler (with ``tag``, if given)."""
    return default_scheduler.get_jobs(tag)


def clear(tag: Hashable | None = None) -> None:
    """Delete jobs of the default scheduler (with ``tag``, if given)."""
    default_scheduler.clear(tag)


def cancel_job(job: _upstream.Job) -> None:
    """Remove ``job`` from the default scheduler."""
    default_scheduler.cancel_job(job)


def next_run(tag: Hashable | None = None) -> _dt.datetime | None:
    """When the default scheduler runs its next job (scheduler clock: naive system-local time)."""
    return default_scheduler.get_next_run(tag)


def idle_seconds() -> float | None:
    """Seconds until the default scheduler's next job."""
    return default_scheduler.idle_seconds


def repeat(job: Job, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator scheduling the function as ``job``. Usage: ``@repeat(every().day.at("10:00"))``"""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        job.do(function, *args, **kwargs)
        return function

    return decorate

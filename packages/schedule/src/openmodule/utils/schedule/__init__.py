"""openmodule.utils.schedule: the schedule library (1.x API) with time-zone aware ``at()``.

Services do not import ``schedule`` themselves: this module's ``Job.at(time_str, tz)`` takes a time-zone name
(resolved with ``dateutil.tz.gettz``) or a dateutil tz object and keeps daily and weekly jobs at the same local
wall time across DST changes.

Usage::

    from openmodule.utils import schedule

    schedule.every().day.at("02:30", "Europe/Vienna").do(nightly_export)
    schedule.every(10).minutes.do(poll)
    schedule.run_pending()   # call regularly, e.g. every second
"""

from __future__ import annotations

from openmodule.utils.schedule._job import (
    CancelJob,
    IntervalError,
    Job,
    ScheduleError,
    Scheduler,
    ScheduleValueError,
    cancel_job,
    clear,
    default_scheduler,
    every,
    get_jobs,
    idle_seconds,
    jobs,
    next_run,
    repeat,
    run_all,
    run_pending,
)

__all__ = [
    "CancelJob",
    "IntervalError",
    "Job",
    "ScheduleError",
    "ScheduleValueError",
    "Scheduler",
    "cancel_job",
    "clear",
    "default_scheduler",
    "every",
    "get_jobs",
    "idle_seconds",
    "jobs",
    "next_run",
    "repeat",
    "run_all",
    "run_pending",
]

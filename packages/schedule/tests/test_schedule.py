from __future__ import annotations

import datetime as dt

import pytest
from dateutil import tz

from openmodule.utils import schedule
from openmodule.utils.schedule import CancelJob, Scheduler, ScheduleValueError

VIENNA = tz.gettz("Europe/Vienna")
UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_all_is_complete():
    public = {n for n in dir(schedule) if not n.startswith("_")} - {"annotations"}
    assert public == set(schedule.__all__)


def run_days(scheduler, job, clock, as_utc, days):
    """Jump the clock to each next run and run it; return the local Vienna wall times of the runs."""
    runs = []
    for _ in range(days):
        clock.set(as_utc(job.next_run))
        scheduler.run_pending()
        runs.append(clock.now.astimezone(VIENNA).replace(tzinfo=None))
    return runs


def test_daily_job_keeps_local_time_across_spring_forward(clock, as_utc):
    clock.set(utc(2026, 3, 26, 12, 0))
    scheduler = Scheduler()
    calls = []
    job = scheduler.every().day.at("02:30", "Europe/Vienna").do(calls.append, 1)
    assert as_utc(job.next_run) == utc(2026, 3, 27, 1, 30)  # CET = UTC+1
    runs = run_days(scheduler, job, clock, as_utc, 5)
    assert runs == [
        dt.datetime(2026, 3, 27, 2, 30),
        dt.datetime(2026, 3, 28, 2, 30),
        dt.datetime(2026, 3, 29, 3, 30),  # 02:30 does not exist that day: one gap later
        dt.datetime(2026, 3, 30, 2, 30),  # CEST = UTC+2
        dt.datetime(2026, 3, 31, 2, 30),
    ]
    assert len(calls) == 5
    assert as_utc(job.next_run) == utc(2026, 4, 1, 0, 30)


def test_daily_job_runs_once_on_fall_back_day(clock, as_utc):
    clock.set(utc(2026, 10, 23, 12, 0))
    scheduler = Scheduler()
    calls = []
    job = scheduler.every().day.at("02:30", "Europe/Vienna").do(lambda: calls.append(clock.now))
    runs = run_days(scheduler, job, clock, as_utc, 4)
    assert runs == [dt.datetime(2026, 10, d, 2, 30) for d in (24, 25, 26, 27)]
    assert calls == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
        utc(2026, 10, 27, 1, 30),
    ]
    # Polling through the second 02:30 of the fall-back night must not run the job again.
    clock.set(utc(2026, 10, 25, 0, 0))
    job.next_run = None
    job._schedule_next_run()
    clock.set(utc(2026, 10, 25, 1, 31))  # 02:31 CET, the repeated hour
    count = len(calls)
    scheduler.run_pending()
    assert len(calls) == count + 1
    assert as_utc(job.next_run) == utc(2026, 10, 26, 1, 30)


def test_hourly_job_counts_real_hours_on_25h_day(clock, as_utc):
    clock.set(utc(2026, 10, 24, 22, 0))  # 2026-10-25 00:00 CEST
    scheduler = Scheduler()
    calls = []
    job = scheduler.every().hour.at(":15", "Europe/Vienna").do(lambda: calls.append(clock.now))
    while True:
        nxt = as_utc(job.next_run)
        if nxt >= utc(2026, 10, 25, 23, 0):  # local midnight of the 26th (CET)
            break
        clock.set(nxt)
        scheduler.run_pending()
    assert len(calls) == 25
    assert all(c.minute == 15 for c in calls)
    assert calls[2] == utc(2026, 10, 25, 0, 15) and calls[3] == utc(2026, 10, 25, 1, 15)


def test_weekday_job_in_new_york_across_us_dst(clock, as_utc):
    clock.set(utc(2026, 3, 1, 12))  # Sunday
    scheduler = Scheduler()
    job = scheduler.every().monday.at("06:00", "America/New_York").do(lambda: None)
    assert as_utc(job.next_run) == utc(2026, 3, 2, 11, 0)  # EST
    clock.set(as_utc(job.next_run))
    scheduler.run_pending()
    assert as_utc(job.next_run) == utc(2026, 3, 9, 10, 0)  # EDT since 2026-03-08


def test_tz_object_and_no_tz(clock, as_utc):
    clock.set(utc(2026, 6, 1, 0, 0))
    scheduler = Scheduler()
    job = scheduler.every().day.at("10:00", VIENNA).do(lambda: None)
    assert as_utc(job.next_run) == utc(2026, 6, 1, 8, 0)
    plain = scheduler.every(2).days.at("10:00").do(lambda: None)
    local = as_utc(plain.next_run).astimezone(tz.tzlocal())
    assert (local.hour, local.minute) == (10, 0)


@pytest.mark.parametrize(
    "builder, time_str, expected",
    [
        (lambda s: s.every().hour, "07:05", dt.time(0, 7, 5)),
        (lambda s: s.every().hour, ":45", dt.time(0, 45, 0)),
        (lambda s: s.every().minute, ":30", dt.time(0, 0, 30)),
        (lambda s: s.every().day, "23:59:58", dt.time(23, 59, 58)),
        (lambda s: s.every().tuesday, "08:00", dt.time(8, 0, 0)),
    ],
)
def test_at_formats(builder, time_str, expected):
    job = builder(Scheduler()).at(time_str, "Europe/Vienna")
    assert job.at_time == expected


@pytest.mark.parametrize(
    "builder, time_str",
    [
        (lambda s: s.every().day, "2:30"),
        (lambda s: s.every().day, "24:00"),
        (lambda s: s.every().hour, "10:00:00"),
        (lambda s: s.every().minute, "00:30"),
        (lambda s: s.every().second, ":30"),
        (lambda s: s.every().week, "10:00"),
    ],
)
def test_at_rejects_bad_values(builder, time_str):
    with pytest.raises(ScheduleValueError):
        builder(Scheduler()).at(time_str)


def test_at_time_zone_errors():
    with pytest.raises(KeyError, match="Unknown timezone"):
        Scheduler().every().day.at("10:00", "Mars/Olympus_Mons")
    with pytest.raises(ScheduleValueError):
        Scheduler().every().day.at("10:00", 3600)  # type: ignore[arg-type]


def test_cancel_job_tags_until(clock, as_utc):
    clock.set(utc(2026, 5, 5, 12, 0))
    scheduler = Scheduler()
    calls = []
    once = scheduler.every().minute.do(lambda: (calls.append("once"), CancelJob)[1]).tag("a")
    scheduler.every().minute.do(lambda: calls.append("b")).tag("b", "x")
    assert [j.tags for j in scheduler.get_jobs("x")] == [{"b", "x"}]
    clock.set(as_utc(once.next_run))
    scheduler.run_pending()
    assert sorted(calls) == ["b", "once"]
    assert scheduler.get_jobs("a") == []
    scheduler.clear("b")
    assert scheduler.jobs == []


def test_module_level_default_scheduler(clock, as_utc):
    clock.set(utc(2026, 5, 5, 12, 0))
    calls = []
    try:
        job = schedule.every(5).seconds.do(calls.append, "x")
        assert schedule.get_jobs() == [job]
        assert as_utc(schedule.next_run()) == utc(2026, 5, 5, 12, 0, 5)
        clock.set(utc(2026, 5, 5, 12, 0, 5))
        schedule.run_pending()
        assert calls == ["x"]
        assert schedule.idle_seconds() == 5.0

        @schedule.repeat(schedule.every().day.at("01:00", "UTC"))
        def nightly():
            calls.append("n")

        assert len(schedule.jobs) == 2
        schedule.run_all()
        assert calls == ["x", "x", "n"]
    finally:
        schedule.clear()
    assert schedule.jobs == []


def test_until_cancels(clock, as_utc):
    # until() itself checks its deadline against the real clock, so the simulated clock starts in the future.
    clock.set(dt.datetime.now(UTC) + dt.timedelta(days=400))
    scheduler = Scheduler()
    deadline = (clock.now + dt.timedelta(seconds=150)).astimezone(tz.tzlocal()).replace(tzinfo=None)
    calls = []
    job = scheduler.every().minute.until(deadline).do(calls.append, 1)
    clock.set(clock.now + dt.timedelta(minutes=1))
    scheduler.run_pending()
    assert scheduler.jobs == [job] and calls == [1]
    clock.set(clock.now + dt.timedelta(minutes=1))
    scheduler.run_pending()  # runs; the next run would be past the deadline: cancelled
    assert scheduler.jobs == [] and calls == [1, 1]


def test_plain_import_schedule_still_works():
    import schedule as upstream

    assert issubclass(Scheduler, upstream.Scheduler)
    assert isinstance(Scheduler().every().day, upstream.Job)

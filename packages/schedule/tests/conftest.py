from __future__ import annotations

import datetime as dt
import importlib

import pytest
from dateutil import tz


class Clock:
    """The instant the scheduler sees as "now"; tests move it through DST changes."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> None:
        self.now = moment.astimezone(dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    module = importlib.import_module("openmodule.utils.schedule._job")
    c = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    monkeypatch.setattr(module, "_now", c)
    return c


@pytest.fixture
def as_utc():
    """The instant a job's ``next_run`` (naive scheduler clock) stands for, in UTC."""

    def convert(naive: dt.datetime) -> dt.datetime:
        return naive.replace(tzinfo=tz.tzlocal()).astimezone(dt.UTC)

    return convert

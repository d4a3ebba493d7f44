"""RateLimitedLog: the one rate-limited logger of the dispatcher, the RPC server and client, and health."""

from __future__ import annotations

import logging

import pytest

from openmodule.dispatcher import RateLimitedLog

LOGGER = "test.ratelimit"


def _messages(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


def test_one_record_per_key_and_interval_then_the_count_of_the_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limit = RateLimitedLog(logging.getLogger(LOGGER), logging.WARNING, interval=3600)
    with caplog.at_level(logging.DEBUG, LOGGER):
        results = [limit.log("bad request on %s", channel) for channel in ["a", "b", "c"]]
        limit.log("other problem", key="other")
        limit.interval = 0
        limit.log("bad request on %s", "d")
        limit.log("bad request on %s", "e")  # a new interval each time now: nothing left out
    assert results == [True, False, False]
    assert _messages(caplog) == [
        (logging.WARNING, "bad request on a"),
        (logging.WARNING, "other problem"),
        (logging.WARNING, "bad request on d (2 more since the last report)"),
        (logging.WARNING, "bad request on e"),
    ]


def test_burst_level_and_exc_info(caplog: pytest.LogCaptureFixture) -> None:
    limit = RateLimitedLog(logging.getLogger(LOGGER), interval=3600, burst=2)
    with caplog.at_level(logging.DEBUG, LOGGER):
        for i in range(5):
            limit.log("flood %d", i, key="flood", level=logging.ERROR, exc_info=ValueError("boom"))
    assert _messages(caplog) == [(logging.ERROR, "flood 0"), (logging.ERROR, "flood 1")]
    assert caplog.records[0].exc_info is not None and isinstance(caplog.records[0].exc_info[1], ValueError)


def test_admit_lets_the_caller_format_only_what_is_logged() -> None:
    limit = RateLimitedLog(logging.getLogger(LOGGER), interval=3600)
    assert limit.admit("k") == 0
    assert limit.admit("k") is None
    assert limit.admit("k") is None
    limit.interval = 0
    left_out = limit.admit("k")
    assert left_out == 2
    assert limit.more(left_out) == " (2 more since the last report)"
    assert limit.more(0) == ""

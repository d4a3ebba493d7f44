from __future__ import annotations

import threading
import warnings

import pytest

from openmodule.health import HealthResult, health_error, health_ok


def test_helpers():
    assert health_ok() == HealthResult("ok", None, None)
    assert health_ok(meta={"a": 1}) == HealthResult("ok", None, {"a": 1})
    assert health_error("bad") == HealthResult("error", "bad", None)
    assert health_error("bad", meta={"b": 2}) == ("error", "bad", {"b": 2})
    assert health_error("bad", meta={"b": 2}).meta == {"b": 2}


def test_ok_handler_adds_meta_only(make_health, pong_of):
    health, published = make_health(health_handler=lambda: health_ok(meta=dict(this="is_easy")))
    pong = pong_of(health, published)["pong"]
    assert pong["status"] == "ok" and "message" not in pong
    assert pong["meta"] == {"this": "is_easy"}
    health.health_handler = lambda: health_ok()
    assert set(pong_of(health, published)["pong"]) == {"status", "version", "name", "startup"}


def test_error_handler_marks_pong(make_health, pong_of):
    health, published = make_health()
    health.health_handler = lambda: health_error("we have an error", meta=dict(error="error"))
    pong = pong_of(health, published)["pong"]
    assert (pong["status"], pong["message"], pong["meta"]) == (
        "error",
        "we have an error",
        {"error": "error"},
    )


def test_readme_misspelled_attribute_sets_the_handler(make_health, pong_of):
    health, published = make_health()
    health.health_hanlder = lambda: health_error("via typo")
    assert health.health_handler is health.health_hanlder
    assert pong_of(health, published)["pong"]["message"] == "via typo"


def test_handler_message_wins_over_failing_check(make_health, pong_of):
    health, published = make_health(health_handler=lambda: health_error("handler says no"))
    health.add_check("c", "C", None)
    health.check_fail("c", message="check failed")
    pong = pong_of(health, published)
    assert pong["pong"]["message"] == "handler says no"
    assert pong["checks"][0]["message"] == "check failed"
    health.health_handler = health_ok
    assert pong_of(health, published)["pong"]["message"] == "check failed"


def test_raising_handler_still_pongs(make_health, pong_of, caplog):
    def broken() -> HealthResult:
        raise RuntimeError("boom")

    health, published = make_health(health_handler=broken)
    pong = pong_of(health, published)["pong"]
    assert (pong["status"], pong["message"]) == ("error", "health handler raised RuntimeError: boom")
    assert "health handler raised" in caplog.text and "boom" in caplog.text


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (None, "health handler returned NoneType, expected a HealthResult"),
        (True, "health handler returned bool, expected a HealthResult"),
        (("maybe", None, None), "health handler returned unknown status 'maybe'"),
        (("ok", None, ["x"]), "health handler meta must be a dict, got list"),
        (("ok", None, {"x": object()}), "health handler meta is not JSON serializable"),
        (("error", None, None), "health handler reported an error"),
    ],
)
def test_bad_results_mark_error(make_health, pong_of, result, message):
    health, published = make_health(health_handler=lambda: result)
    pong = pong_of(health, published)["pong"]
    assert pong["status"] == "error"
    assert pong["message"].startswith(message)
    assert "meta" not in pong or result[0] == "maybe"


def test_hanging_handler_times_out_and_does_not_pile_up(make_health, pong_of):
    release = threading.Event()
    calls = []

    def hangs() -> HealthResult:
        calls.append(1)
        release.wait(30)
        return health_ok()

    health, published = make_health(health_handler=hangs, handler_timeout=0.05)
    pong = pong_of(health, published)["pong"]
    assert (pong["status"], pong["message"]) == ("error", "health handler did not return within 0.05 s")
    pong = pong_of(health, published)["pong"]
    assert pong["status"] == "error" and "still running" in pong["message"]
    assert len(calls) == 1  # no second thread while the first one hangs
    release.set()
    for thread in threading.enumerate():
        if thread.name == "openmodule-health-handler":
            thread.join(10)
    assert pong_of(health, published)["pong"]["status"] == "ok"
    assert len(calls) == 2


def test_no_deprecation_warning_on_plain_use(make_health):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_health(health_handler=health_ok)

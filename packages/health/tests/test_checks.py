from __future__ import annotations

import logging

import pytest

from openmodule.health import HealthCheckState


def test_pong_without_checks_and_metrics(make_health, pong_of):
    health, published = make_health()
    pong = pong_of(health, published)
    assert set(pong) == {"timestamp", "name", "type", "pong", "checks", "metrics"}
    assert pong["type"] == "healthz" and pong["name"] == "health_test"
    assert pong["checks"] == [] and pong["metrics"] == []
    assert set(pong["pong"]) == {"status", "version", "name", "startup"}
    assert pong["pong"]["status"] == "ok"
    assert pong["pong"]["version"] == "1.2.3"
    assert isinstance(pong["pong"]["startup"], float)


def test_registers_ping_handler_on_given_dispatcher(make_health):
    from openmodule.health import HealthPingMessage

    health, _ = make_health()
    [(topic, cls, handler, kwargs)] = health.dispatcher.handlers
    assert (topic, cls, handler) == ("healthz", HealthPingMessage, health._on_ping)
    health.close()
    assert health.dispatcher.handlers == []


def test_check_lifecycle(make_health, pong_of):
    health, published = make_health()
    health.add_check("cam", "Camera", "camera reachable")
    assert pong_of(health, published)["checks"] == [
        {
            "id": "cam",
            "package": "health_test",
            "state": "no-data",
            "name": "Camera",
            "description": "camera reachable",
        }
    ]
    assert pong_of(health, published)["pong"]["status"] == "ok"  # no-data is not a failure

    health.check_fail("cam", message="no frames")
    pong = pong_of(health, published)
    assert pong["checks"][0]["state"] == "fail" and pong["checks"][0]["message"] == "no frames"
    assert pong["pong"]["status"] == "error" and pong["pong"]["message"] == "no frames"

    health.check_success("cam", message="ignored for ok")
    pong = pong_of(health, published)
    assert pong["checks"][0]["state"] == "ok" and "message" not in pong["checks"][0]
    assert pong["pong"]["status"] == "ok" and "message" not in pong["pong"]

    health.add_check("cam", "Camera 2", None)  # re-creating resets to no-data, None description omitted
    assert pong_of(health, published)["checks"] == [
        {"id": "cam", "package": "health_test", "state": "no-data", "name": "Camera 2"}
    ]
    health.remove_check("cam")
    health.remove_check("cam")  # missing is fine
    assert pong_of(health, published)["checks"] == []


def test_parent_and_package(make_health, make_config, pong_of):
    health, published = make_health()
    health.add_check("io", "IO", "io ok", parent=True)
    health.add_check("io", "IO", "io ok", package="other_pkg")
    health.check_fail("io", parent=True, message="parent broken")
    pong = pong_of(health, published)
    assert [(c["package"], c["state"]) for c in pong["checks"]] == [
        ("parent_pkg", "fail"),
        ("other_pkg", "no-data"),
    ]
    with pytest.raises(AssertionError, match="you can only set either parent or package"):
        health.add_check("x", "X", None, parent=True, package="p")
    no_parent, _ = make_health(make_config(PARENT=None))
    with pytest.raises(AssertionError, match="no parent is set: set PARENT"):
        no_parent.add_check("x", "X", None, parent=True)


def test_checks_in_insertion_order_and_message_of_the_last_failing(make_health, pong_of):
    health, published = make_health()
    for cid in ("b", "a", "c"):
        health.add_check(cid, cid.upper(), None)
    health.check_fail("b", message="b failed")
    health.check_fail("a", message="a failed")
    health.add_check("b", "B again", None)  # re-added: keeps its place, starts over as no-data
    pong = pong_of(health, published)
    assert [(c["id"], c["state"]) for c in pong["checks"]] == [
        ("b", "no-data"),
        ("a", "fail"),
        ("c", "no-data"),
    ]
    assert pong["pong"]["message"] == "a failed"
    health.check_fail("c", message="c failed")
    assert pong_of(health, published)["pong"]["message"] == "c failed"


def test_checks_dict_is_live(make_health):
    health, _ = make_health()
    health.add_check("cam", "Camera", None, package="cam_1")
    check = health.checks[health._check_id("cam", package="cam_1")]
    assert (check.id, check.package, check.name) == ("cam", "cam_1", "Camera")
    health.check_fail("cam", package="cam_1", message="dark")
    assert (check.state, check.message) == ("fail", "dark")
    assert list(health.checks) == [("cam", "cam_1")]


def test_unknown_check_raises_in_testing_and_warns_in_production(make_health, make_config, caplog):
    health, _ = make_health()
    with pytest.raises(AssertionError, match="'nope'.*add_check"):
        health.check_fail("nope")
    prod, published = make_health(make_config(TESTING=False, DEBUG=False))
    with caplog.at_level(logging.WARNING, "openmodule.health"):
        prod.check_fail("nope")
        prod.check_success("nope")
    assert "does not exist" in caplog.text
    assert caplog.text.count("does not exist") == 1  # rate-limited


def test_invalid_state_is_rejected(make_health):
    health, _ = make_health()
    health.add_check("cam", "Camera", None)
    with pytest.raises(ValueError):
        health.set_check_state("cam", "broken")
    health.set_check_state("cam", "no-data")
    health.set_check_state("cam", HealthCheckState.fail, message="m")


def test_templates(make_health, pong_of):
    health, published = make_health()
    with pytest.raises(KeyError, match="add_check_template"):
        health.update_template_packages("online", ["a"])
    health.add_check_template("online", "Online", "device online")
    health.update_template_packages("online", ["cam_1", "cam_2"])
    health.check_fail("online", package="cam_1", message="offline")
    health.add_check("online", "Mine", None)  # the service's own check of that id
    health.update_template_packages("online", ["cam_1", "cam_3"])
    pong = pong_of(health, published)
    assert [(c["package"], c["state"], c["name"]) for c in pong["checks"]] == [
        ("cam_1", "fail", "Online"),
        ("cam_3", "no-data", "Online"),
    ]
    assert pong["checks"][1]["description"] == "device online"
    health.update_template_packages("online", [])
    assert pong_of(health, published)["checks"] == []
    health.update_template_packages("online", ["z_cam", "b_cam", "m_cam"])  # new packages in a stable order
    assert [c["package"] for c in pong_of(health, published)["checks"]] == ["b_cam", "m_cam", "z_cam"]


def test_templates_are_per_instance(make_health):
    first, _ = make_health()
    second, _ = make_health()
    first.add_check_template("t", "T")
    with pytest.raises(KeyError):
        second.update_template_packages("t", ["a"])


def test_the_next_warning_says_how_many_were_left_out(make_health, make_config, caplog):
    prod, _ = make_health(make_config(TESTING=False, DEBUG=False))
    with caplog.at_level(logging.WARNING, "openmodule.health"):
        for _ in range(7):
            prod.check_fail("nope")
        prod._ratelog.interval = 0  # the next interval
        prod.check_fail("nope")
    messages = [r.getMessage() for r in caplog.records if "does not exist" in r.getMessage()]
    assert len(messages) == 2
    assert messages[1].endswith("(6 more since the last report)")

from __future__ import annotations

import logging
import threading

import pytest

from openmodule.health import HealthMetricType


def _metric(pong: dict, metric_id: str) -> dict:
    [metric] = [m for m in pong["metrics"] if m["id"] == metric_id]
    return metric


def test_metric_object_and_repr_label_keys(make_health, pong_of):
    health, published = make_health()
    health.add_metric("plates", HealthMetricType.count, "Plates", "plates read", labels=("gate",))
    health.metric_inc("plates", gate="gate_1")
    health.metric_inc("plates", 2, gate="gate_1")
    health.metric_inc("plates", gate=2)
    assert _metric(pong_of(health, published), "plates") == {
        "id": "plates",
        "name": "Plates",
        "description": "plates read",
        "type": "count",
        "labels": ["gate"],
        "values": {"[('compute_id', '1'), ('gate', 'gate_1')]": 3, "[('compute_id', '1'), ('gate', '2')]": 1},
        "package": "health_test",
    }


def test_json_label_keys(make_health, make_config, pong_of):
    health, published = make_health(make_config(COMPUTE_ID=2), label_format="json")
    health.add_metric("temp", "gauge", "Temp", "temperature", labels=["zone", "a"])
    health.metric_set("temp", 21.5, zone="ü", a=1)
    assert _metric(pong_of(health, published), "temp")["values"] == {
        '{"a":"1","compute_id":"2","zone":"\u00fc"}': 21.5
    }
    # the wire is ASCII with lowercase escapes
    assert b'\\"zone\\":\\"\\u00fc\\"' in published[-1][1].json_bytes()


def test_label_format_from_setting_and_invalid(make_health, make_config):
    health, _ = make_health(make_config(HEALTH_LABEL_FORMAT="json"))
    assert health.label_format == "json"
    with pytest.raises(ValueError, match="label_format"):
        make_health(make_config(HEALTH_LABEL_FORMAT="yaml"))


def test_gauge_set_inc_dec_delete(make_health, pong_of):
    health, published = make_health()
    health.add_metric("queue", HealthMetricType.gauge, "Queue", "queue length")
    health.metric_inc("queue", 5)
    health.metric_dec("queue", 2)
    health.metric_dec("queue")
    assert _metric(pong_of(health, published), "queue")["values"] == {"[('compute_id', '1')]": 2}
    health.metric_set("queue", 7.5)
    assert _metric(pong_of(health, published), "queue")["values"] == {"[('compute_id', '1')]": 7.5}
    health.metric_set("queue", None)
    assert _metric(pong_of(health, published), "queue")["values"] == {}


def test_str_metric(make_health, pong_of):
    health, published = make_health()
    health.add_metric("fw", HealthMetricType.str, "Firmware", "firmware version", labels=["dev"])
    health.metric_set("fw", "v1 'x'", dev="a")
    assert _metric(pong_of(health, published), "fw")["values"] == {
        "[('compute_id', '1'), ('dev', 'a')]": "v1 'x'"
    }
    with pytest.raises(ValueError, match="str metric"):
        health.metric_set("fw", 3, dev="a")
    with pytest.raises(ValueError, match="str metric"):
        health.metric_inc("fw", dev="a")


def test_count_rules(make_health):
    health, _ = make_health()
    health.add_metric("n", HealthMetricType.count, "N", "n")
    with pytest.raises(ValueError, match="metric_inc, not metric_set"):
        health.metric_set("n", 3)
    with pytest.raises(ValueError, match="cannot decrease"):
        health.metric_dec("n")
    with pytest.raises(ValueError, match="cannot decrease"):
        health.metric_inc("n", -1)
    with pytest.raises(ValueError, match="must be a number"):
        health.metric_inc("n", "1")
    with pytest.raises(ValueError, match="must be a number"):
        health.metric_inc("n", True)


def test_gauge_rejects_non_numbers(make_health):
    health, _ = make_health()
    health.add_metric("g", HealthMetricType.gauge, "G", "g")
    with pytest.raises(ValueError, match="gauge metric"):
        health.metric_set("g", "3")
    with pytest.raises(ValueError, match="must be a number"):
        health.metric_dec("g", None)


def test_unknown_metric_and_type(make_health):
    health, _ = make_health()
    for call in (
        lambda: health.metric_set("x", 1),
        lambda: health.metric_inc("x"),
        lambda: health.metric_dec("x"),
        lambda: health.metric_clear("x"),
    ):
        with pytest.raises(ValueError, match="'x'.*add_metric"):
            call()
    with pytest.raises(ValueError, match="unknown metric type 'histogram'"):
        health.add_metric("h", "histogram", "H", "h")
    health.remove_metric("x")  # missing is fine


def test_labels_must_match_declaration(make_health):
    health, _ = make_health()
    health.add_metric("m", HealthMetricType.gauge, "M", "m", labels=["gate"])
    with pytest.raises(ValueError, match="do not match"):
        health.metric_set("m", 1)
    with pytest.raises(ValueError, match="do not match"):
        health.metric_set("m", 1, gate="g", lane="l")


@pytest.mark.parametrize(
    "label", ["instance", "job", "compute_id", "source", "__x", "grafana_y", "package_name"]
)
def test_reserved_labels_rejected(make_health, label):
    health, _ = make_health()
    with pytest.raises(ValueError, match=f"\\['{label}'\\] are reserved"):
        health.add_metric("m", HealthMetricType.gauge, "M", "m", labels=[label])


def test_production_logs_and_keeps_serving(make_health, make_config, pong_of, caplog):
    health, published = make_health(make_config(TESTING=False, DEBUG=False, COMPUTE_ID=3))
    with caplog.at_level(logging.ERROR, "openmodule.health"):
        health.metric_set("missing", 1)  # the reference crashed here with AttributeError
        health.metric_clear("missing")
        health.add_metric("m", HealthMetricType.gauge, "M", "m", labels=["gate", "compute_id"])
        health.metric_set("m", 1, gate="g", compute_id="99")  # compute_id stays the device's own
        health.metric_set("m", 2, lane="x")  # wrong labels: still stored
        health.metric_set("m", "text", gate="g")  # wrong type: dropped
    assert "does not exist" in caplog.text and "reserved" in caplog.text and "gauge metric" in caplog.text
    metric = _metric(pong_of(health, published), "m")
    assert metric["labels"] == ["gate"]
    assert metric["values"] == {
        "[('compute_id', '3'), ('gate', 'g')]": 1,
        "[('compute_id', '3'), ('lane', 'x')]": 2,
    }


def test_metric_clear_keeps_listed_and_copies(make_health, pong_of):
    health, published = make_health()
    health.add_metric("m", HealthMetricType.gauge, "M", "m", labels=["gate"])
    for gate in ("a", "b", "c"):
        health.metric_set("m", 1, gate=gate)
    keep = [{"gate": "a"}, {"gate": "c"}]
    health.metric_clear("m", values_to_keep=keep)
    assert keep == [{"gate": "a"}, {"gate": "c"}]  # not mutated
    assert sorted(_metric(pong_of(health, published), "m")["values"]) == [
        "[('compute_id', '1'), ('gate', 'a')]",
        "[('compute_id', '1'), ('gate', 'c')]",
    ]
    health.metric_clear("m")
    assert _metric(pong_of(health, published), "m")["values"] == {}


def test_add_metric_recreates_and_remove(make_health, pong_of):
    health, published = make_health()
    health.add_metric("m", HealthMetricType.count, "M", "m")
    health.metric_inc("m")
    health.add_metric("m", HealthMetricType.count, "M", "m")
    health.add_metric("m", HealthMetricType.count, "M", "m", parent=True)
    pong = pong_of(health, published)
    assert [(m["id"], m["package"], m["values"]) for m in pong["metrics"]] == [
        ("m", "health_test", {}),
        ("m", "parent_pkg", {}),
    ]
    health.remove_metric("m")
    assert [m["package"] for m in pong_of(health, published)["metrics"]] == ["parent_pkg"]


def test_metric_operations_are_thread_safe(make_health, pong_of):
    health, published = make_health()
    health.add_metric("n", HealthMetricType.count, "N", "n", labels=["t"])
    health.add_metric("g", HealthMetricType.gauge, "G", "g")
    threads, per_thread = 8, 2000

    def work(i: int) -> None:
        for _ in range(per_thread):
            health.metric_inc("n", t=i % 2)
            health.metric_inc("g")
            health.metric_dec("g")
            health.metric_inc("g")

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    while any(w.is_alive() for w in workers):
        pong_of(health, published)  # pongs are built concurrently with the updates
    for w in workers:
        w.join()
    pong = pong_of(health, published)
    assert _metric(pong, "n")["values"] == {
        "[('compute_id', '1'), ('t', '0')]": threads * per_thread // 2,
        "[('compute_id', '1'), ('t', '1')]": threads * per_thread // 2,
    }
    assert _metric(pong, "g")["values"] == {"[('compute_id', '1')]": threads * per_thread}

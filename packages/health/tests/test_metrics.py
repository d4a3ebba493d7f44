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
    with pytest.raises(ValueError, match="'fw' of type str cannot be set to a non-string value: got 3"):
        health.metric_set("fw", 3, dev="a")
    for change in (health.metric_inc, health.metric_dec):
        with pytest.raises(
            ValueError, match="'fw' of type str cannot be increased or decreased: use metric_set"
        ):
            change("fw", dev="a")


def test_count_rules(make_health):
    health, _ = make_health()
    health.add_metric("n", HealthMetricType.count, "N", "n")
    with pytest.raises(ValueError, match="'n' of type count cannot be set: use metric_inc"):
        health.metric_set("n", 3)
    with pytest.raises(ValueError, match="'n' of type count cannot be decreased"):
        health.metric_dec("n")
    with pytest.raises(ValueError, match="'n' of type count cannot be decreased"):
        health.metric_inc("n", -1)
    with pytest.raises(ValueError, match="'n' of type count cannot be set to a non-numeric value"):
        health.metric_inc("n", "1")
    with pytest.raises(ValueError, match="non-numeric value: got amount True"):
        health.metric_inc("n", True)
    health.metric_inc("n", 2)
    health.metric_set("n", None)  # deleting a value is allowed for every type
    assert health.metrics[health._check_id("n")].values == {}


def test_gauge_rejects_non_numbers(make_health):
    health, _ = make_health()
    health.add_metric("g", HealthMetricType.gauge, "G", "g")
    with pytest.raises(ValueError, match="'g' of type gauge cannot be set to a non-numeric value: got '3'"):
        health.metric_set("g", "3")
    with pytest.raises(
        ValueError, match="of type gauge cannot be set to a non-numeric value: got amount None"
    ):
        health.metric_dec("g", None)


def test_unknown_metric_and_type(make_health):
    health, _ = make_health()
    for call in (
        lambda: health.metric_set("x", 1),
        lambda: health.metric_inc("x"),
        lambda: health.metric_dec("x"),
        lambda: health.metric_clear("x"),
    ):
        with pytest.raises(
            ValueError, match="'x' of package 'health_test' not found, the metric will not be set"
        ):
            call()
    with pytest.raises(ValueError, match="unknown metric type 'histogram'"):
        health.add_metric("h", "histogram", "H", "h")
    health.remove_metric("x")  # missing is fine


def test_labels_must_match_declaration(make_health):
    health, _ = make_health()
    health.add_metric("m", HealthMetricType.gauge, "M", "m", labels=["gate"])
    with pytest.raises(ValueError, match=r"m labels do not match the metric definition: got \[\], declared"):
        health.metric_set("m", 1)
    with pytest.raises(
        ValueError, match="labels do not match the metric definition: got \\['gate', 'lane'\\]"
    ):
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
    assert "not found" in caplog.text and "reserved" in caplog.text and "non-numeric" in caplog.text
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


def test_production_reports_each_misused_operation(make_health, make_config, caplog):
    # the rate limit is per message and operation: metric_inc and metric_dec on a str metric both show up
    health, _ = make_health(make_config(TESTING=False, DEBUG=False))
    health.add_metric("fw", HealthMetricType.str, "Firmware", "firmware version")
    with caplog.at_level(logging.ERROR, "openmodule.health"):
        health.metric_inc("fw")
        health.metric_dec("fw")
        health.metric_inc("fw")  # the same call again within the interval: not logged again
    assert caplog.text.count("of type str cannot be increased or decreased") == 2


def test_metrics_dict_is_live_and_cleared_in_place(make_health):
    health, _ = make_health()
    health.add_metric("n", HealthMetricType.count, "N", "n", labels=["gate"])
    health.add_metric("n", HealthMetricType.count, "N", "n", labels=["gate"], package="other")
    metric = health.metrics[health._check_id("n")]
    assert (metric.id, metric.package, metric.type, metric.labels) == ("n", "health_test", "count", ["gate"])
    for gate in ("a", "b", "c"):
        health.metric_inc("n", gate=gate)
    assert metric.values == {f"[('compute_id', '1'), ('gate', '{g}')]": 1 for g in "abc"}
    health.metric_clear("n", values_to_keep=[{"gate": "b"}])
    assert list(metric.values) == ["[('compute_id', '1'), ('gate', 'b')]"]
    assert list(health.metrics) == [("n", "health_test"), ("n", "other")]


def test_pong_keeps_metrics_in_insertion_order_and_value_types(make_health, pong_of):
    health, published = make_health()
    for metric_id, metric_type in (("z_str", "str"), ("m_int", "gauge"), ("a_float", "gauge")):
        health.add_metric(metric_id, metric_type, metric_id, metric_id)
    health.metric_set("z_str", "123")
    health.metric_set("m_int", 123)
    health.metric_set("a_float", 123.125)
    metrics = pong_of(health, published)["metrics"]
    values = [(m["id"], m["values"]["[('compute_id', '1')]"]) for m in metrics]
    assert values == [("z_str", "123"), ("m_int", 123), ("a_float", 123.125)]
    assert [type(v) for _, v in values] == [str, int, float]

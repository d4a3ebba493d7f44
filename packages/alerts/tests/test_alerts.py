from __future__ import annotations

import json
import logging
import threading
import types

import pytest
from pydantic import ValidationError

from openmodule.alert import AlertHandler, AlertHandleType, AlertMessage, AlertStatus


def test_ids_and_identity(make_alerts):
    alerts, _ = make_alerts()
    a = alerts.get_or_add_alert_id("cam_offline", AlertHandleType.state_change)
    b = alerts.get_or_add_alert_id("cam_offline", "state_change", source="cam_2")
    c = alerts.get_or_add_alert_id("cam_offline", AlertHandleType.count)
    d = alerts.get_or_add_alert_id("cam_offline", AlertHandleType.state_change, package_name="other")
    assert (a, b, c, d) == (0, 1, 2, 3)
    assert (
        alerts.get_or_add_alert_id("cam_offline", AlertHandleType.state_change, package_name="alert_test")
        == 0
    )
    assert alerts.get_or_add_alert_id("cam_offline", "state_change", source="cam_2") == 1
    with pytest.raises(AssertionError, match="must not contain '-'"):
        alerts.get_or_add_alert_id("cam-offline", AlertHandleType.state_change)
    with pytest.raises(ValueError):
        alerts.get_or_add_alert_id("x", "sometimes")


def test_sends_only_on_status_change(make_alerts):
    alerts, published = make_alerts()
    assert alerts.send("cam_offline", AlertHandleType.state_change) is True  # first send, default error
    assert alerts.send("cam_offline", AlertHandleType.state_change, meta={"n": 2}) is False
    assert alerts.send("cam_offline", AlertHandleType.state_change, status=AlertStatus.ok) is True
    assert alerts.send("cam_offline", AlertHandleType.state_change, status="ok") is False
    assert alerts.send("cam_offline", AlertHandleType.state_change, status="offline") is True
    assert [m["status"] for m in published.wire()] == ["error", "ok", "offline"]
    assert [topic for topic, _ in published] == ["alert"] * 3


def test_always_send_alert(make_alerts):
    alerts, published = make_alerts()
    alert_id = alerts.get_or_add_alert_id("tick", AlertHandleType.count, always_send_alert=True)
    assert alerts.send_with_alert_id(alert_id, AlertStatus.error, None)
    assert alerts.send_with_alert_id(alert_id, AlertStatus.error, None)
    # updated on lookup when given
    alerts.get_or_add_alert_id("tick", AlertHandleType.count, always_send_alert=False)
    assert not alerts.send_with_alert_id(alert_id, AlertStatus.error, None)
    assert len(published) == 2


def test_message_fields(make_alerts):
    alerts, published = make_alerts()
    meta = {"pin": 3}
    alerts.send(
        "io_offline",
        AlertHandleType.state,
        status=AlertStatus.error,
        meta=meta,
        value=5,
        source="pin_3",
        package_name="io_pkg",
        version="9.9",
    )
    assert meta == {"pin": 3}  # the caller's dict is not mutated
    [wire] = published.wire()
    assert isinstance(wire.pop("timestamp"), float)
    assert wire == {
        "name": "alert_test",
        "type": "alert",
        "status": "error",
        "alert_meta": {"pin": 3, "sender": "alert_test"},
        "package": "io_pkg",
        "alert_type": "io_offline",
        "source": "pin_3",
        "handle_type": "state",
        "value": 5.0,
    }


def test_state_needs_value_and_value_persists(make_alerts):
    alerts, published = make_alerts()
    alert_id = alerts.get_or_add_alert_id("level", AlertHandleType.state)
    with pytest.raises(ValueError, match="value must not be None .* pass value="):
        alerts.send_with_alert_id(alert_id, AlertStatus.error, {})
    assert published == []
    alerts.send_with_alert_id(alert_id, AlertStatus.error, {}, value=1.5)
    # a count alert without value omits it; a state_change alert sent later keeps its earlier value
    other = alerts.get_or_add_alert_id("door", AlertHandleType.state_change)
    alerts.send_with_alert_id(other, AlertStatus.error, {}, value=2)
    alerts.send_with_alert_id(other, AlertStatus.ok, {})
    wire = published.wire()
    assert wire[0]["value"] == 1.5 and wire[1]["value"] == 2.0 and wire[2]["value"] == 2.0
    alerts.send("count_it", AlertHandleType.count)
    assert "value" not in published.wire()[-1]


def test_bad_status_and_id(make_alerts):
    alerts, _ = make_alerts()
    alert_id = alerts.get_or_add_alert_id("a", AlertHandleType.count)
    with pytest.raises(AssertionError, match="status must be one of"):
        alerts.send_with_alert_id(alert_id, "broken", None)
    with pytest.raises(KeyError, match="unknown alert id 7"):
        alerts.send_with_alert_id(7, AlertStatus.ok, None)


def test_failed_publish_does_not_swallow_the_change(make_alerts):
    alerts, published = make_alerts()

    def failing(message, topic):
        raise RuntimeError("socket closed")

    alerts.publish = failing
    with pytest.raises(RuntimeError):
        alerts.send("a", AlertHandleType.state_change)
    alerts.publish = published
    assert alerts.send("a", AlertHandleType.state_change) is True


def test_log_line(make_alerts, caplog):
    alerts, _ = make_alerts()
    with caplog.at_level(logging.INFO, "openmodule.alert"):
        alerts.send("a", AlertHandleType.count)
        alerts.send("b", AlertHandleType.count, source="cam", status="ok")
    assert "Send alert: a - error" in caplog.text
    assert "Send alert from alert_test/cam: b - ok" in caplog.text


def test_concurrent_sends_publish_each_change_once(make_alerts):
    alerts, published = make_alerts()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(200):
            alerts.send("race", AlertHandleType.state_change, status=AlertStatus.error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(published) == 1


def test_model_validation():
    base = {"name": "x", "status": "ok", "package": "p", "alert_type": "t", "handle_type": "state"}
    assert AlertMessage.model_validate(base).value is None  # 12.x: a missing value still parses
    with pytest.raises(ValidationError, match="value must be set"):
        AlertMessage.model_validate({**base, "value": None})
    assert AlertMessage.model_validate({**base, "value": "3"}).value == 3.0
    with pytest.raises(ValidationError):
        AlertMessage.model_validate({**base, "status": "bad"})
    msg = AlertMessage(status=AlertStatus.ok, package="p", alert_type="t", handle_type="count")
    assert json.loads(msg.json_bytes())["source"] == ""


def test_default_config_is_the_lazy_settings():
    alerts = AlertHandler(lambda message, topic: None)
    assert alerts.get_or_add_alert_id("x", AlertHandleType.count) == 0
    assert alerts._alerts[0].package == "alert_test"


def test_on_the_wire(bus):
    alerts = AlertHandler(bus.publisher.publish, config=bus.config)
    assert alerts.send("cam_offline", AlertHandleType.state_change, meta={"ip": "10.0.0.1"}, source="cam_1")
    raw, body = bus.listener.receive("alert")
    assert (
        raw
        == (
            f'{{"timestamp":{json.dumps(body["timestamp"])},"name":"alert_test","type":"alert","status":"error",'
            '"alert_meta":{"ip":"10.0.0.1","sender":"alert_test"},"package":"alert_test","alert_type":"cam_offline",'
            '"source":"cam_1","handle_type":"state_change"}'
        ).encode()
    )
    assert not alerts.send("cam_offline", AlertHandleType.state_change, source="cam_1")  # unchanged
    alert_id = alerts.get_or_add_alert_id("queue", AlertHandleType.state)
    assert alerts.send_with_alert_id(alert_id, AlertStatus.ok, {"q": "\u00fc"}, value=3)
    raw, body = bus.listener.receive("alert")  # the unchanged resend never came: this is the next one
    assert (
        raw
        == (
            f'{{"timestamp":{json.dumps(body["timestamp"])},"name":"alert_test","type":"alert","status":"ok",'
            '"alert_meta":{"q":"\\u00fc","sender":"alert_test"},"package":"alert_test","alert_type":"queue",'
            '"source":"","handle_type":"state","value":3.0}'
        ).encode()
    )


class _CoreLike:
    """What a core offers the alert handler: publish() and config (the real core is a layer above)."""

    def __init__(self, name: str) -> None:
        self.config = types.SimpleNamespace(NAME=name, VERSION="2.0.0")
        self.sent: list = []

    def publish(self, message, topic):
        self.sent.append((topic, json.loads(message.json_bytes())))


def test_handler_built_from_a_core_uses_its_publish_and_config():
    core = _CoreLike("from_core")
    alerts = AlertHandler(core)
    assert alerts.send("door_open", AlertHandleType.state_change, source="d1")
    [(topic, body)] = core.sent
    assert topic == "alert"
    assert (body["package"], body["alert_meta"]["sender"], body["source"]) == ("from_core", "from_core", "d1")
    assert "value" not in body  # None is not sent


def test_handler_without_arguments_finds_the_running_core():
    from openmodule.messaging import NoRunningCore, set_running_core

    with pytest.raises(NoRunningCore, match="AlertHandler.*init_openmodule"):
        AlertHandler()
    core = _CoreLike("running")
    set_running_core(core)
    try:
        alerts = AlertHandler()
        alerts.send("x", AlertHandleType.count, status=AlertStatus.ok)
    finally:
        set_running_core(None)
    assert [body["package"] for _, body in core.sent] == ["running"]


def test_handler_refuses_what_cannot_publish():
    with pytest.raises(TypeError, match="publish callable or a core with publish"):
        AlertHandler(object())

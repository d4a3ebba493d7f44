from __future__ import annotations

import logging
import types
from typing import Any

import pytest
import sentry_sdk

from openmodule.sentry import (
    FILTERED,
    SentryEvent,
    ZeroMQTransport,
    deinit_sentry,
    init_sentry,
    register_personal_data_keys,
    scrub_breadcrumb,
    scrub_event,
    sentry_environment,
    should_activate_sentry,
)


def config(**overrides: Any) -> Any:
    values = dict(NAME="om_svc_1", RESOURCE="device-7", VERSION="1.2.3", DEBUG=False, TESTING=False)
    values.update(overrides)
    return types.SimpleNamespace(**values)


@pytest.fixture
def captured() -> Any:
    """Sentry initialized with the bus transport; published (message, topic) pairs are collected."""
    published: list[tuple[Any, str]] = []
    yield (
        published,
        lambda **kw: init_sentry(
            config(**kw), lambda m, t: published.append((m, t)), extras={"extra_key": 1}
        ),
    )
    deinit_sentry()


@pytest.mark.parametrize(
    ("debug", "testing", "expected"), [(False, False, True), (True, False, False), (False, True, False)]
)
def test_activation_rules(debug: bool, testing: bool, expected: bool) -> None:
    assert should_activate_sentry(config(DEBUG=debug, TESTING=testing)) is expected


def test_environment() -> None:
    assert sentry_environment(config(DEVICE_HOST="https://device.test.example")) == "staging"
    assert sentry_environment(config(DEVICE_HOST="https://device.example")) == "production"
    assert sentry_environment(config()) == "production"


def test_event_is_published_on_the_bus(captured: Any) -> None:
    published, init = captured
    init(GATE="gate_1", DEVICE_HOST="device.test.local")
    try:
        raise ValueError("boom")
    except ValueError:
        sentry_sdk.capture_exception()
    assert len(published) == 1
    message, topic = published[0]
    assert topic == "sentry"
    assert isinstance(message, SentryEvent)
    wire = message.dict()
    assert (wire["type"], wire["name"]) == ("sentry", "om_svc_1")
    event = wire["event"]
    assert event["release"] == "1.2.3"
    assert event["server_name"] == "device-7"
    assert event["environment"] == "staging"
    assert event["extra"]["name"] == "om_svc_1"
    assert event["extra"]["gate"] == "gate_1"
    assert event["extra"]["extra_key"] == 1
    assert event["tags"]["name"] == "om_svc_1"
    assert event["exception"]["values"][0]["type"] == "ValueError"


def test_personal_data_is_scrubbed(captured: Any) -> None:
    published, init = captured
    init()
    plate = "".join(["W-", "12345X"])  # built at runtime: the source lines in the event must not contain it
    vehicle_id = "".join(["veh-", "42"])
    log = logging.getLogger("test.sentry.scrub")
    log.warning("vehicle %s entered at %s", plate, "gate_1")  # becomes a breadcrumb
    sentry_sdk.get_isolation_scope().set_extra("entry", {"plate": plate, "lane": 2})
    sentry_sdk.get_isolation_scope().set_extra("vehicle", {"lane": 2})  # a personal word: all of it goes

    def handler(plate: str, vehicle_id: str) -> None:
        raise RuntimeError("handler failed")

    try:
        handler(plate, vehicle_id)
    except RuntimeError:
        sentry_sdk.capture_exception()
    text = published[-1][0].json_bytes().decode()
    assert plate not in text
    assert vehicle_id not in text
    event = published[-1][0].event
    assert event["extra"]["entry"] == {"plate": FILTERED, "lane": 2}
    assert event["extra"]["vehicle"] == FILTERED
    frame_vars = event["exception"]["values"][0]["stacktrace"]["frames"][-1]["vars"]
    assert frame_vars["plate"] == FILTERED and frame_vars["vehicle_id"] == FILTERED
    crumbs = [c for c in event["breadcrumbs"]["values"] if c.get("category") == "test.sentry.scrub"]
    assert crumbs and crumbs[-1]["message"] == "vehicle %s entered at %s"


def test_logged_error_keeps_template_only(captured: Any) -> None:
    published, init = captured
    init()
    plate = "".join(["G-", "777AB"])
    logging.getLogger("test.sentry.log").error("plate %s not allowed", plate)
    assert published, "a logged error is reported"
    event = published[-1][0].event
    assert plate not in published[-1][0].json_bytes().decode()
    assert event["logentry"]["message"] == "plate %s not allowed"


def test_scrub_functions_directly() -> None:
    register_personal_data_keys("ticket_code")
    event = {
        "extra": {"Ticket_Code": "T1", "LICENSE_PLATE": "X", "ok": [{"vehicle_ids": ["a"]}]},
        "logentry": {"message": "m %s", "params": ["secret"], "formatted": "m secret"},
    }
    scrubbed = scrub_event(event, {})
    assert scrubbed["extra"] == {
        "Ticket_Code": FILTERED,
        "LICENSE_PLATE": FILTERED,
        "ok": [{"vehicle_ids": FILTERED}],
    }
    assert scrubbed["logentry"] == {"message": "m %s", "params": [FILTERED], "formatted": "m %s"}
    record = logging.LogRecord("x", logging.INFO, "f", 1, "plate %s", ("P1",), None)
    crumb = scrub_breadcrumb({"message": "plate P1", "data": {"medium_id": "m"}}, {"log_record": record})
    assert crumb == {"message": "plate %s", "data": {"medium_id": FILTERED}}


def test_transport_drops_non_event_items() -> None:
    from sentry_sdk.envelope import Envelope

    published: list[Any] = []
    transport = ZeroMQTransport(lambda m, t: published.append(m), "svc")
    envelope = Envelope()
    envelope.add_session({"sid": "x"})  # type: ignore[arg-type]
    transport.capture_envelope(envelope)
    assert published == []
    envelope = Envelope()
    envelope.add_event({"event_id": "e1", "message": "hi"})
    transport.capture_envelope(envelope)
    assert [m.event["event_id"] for m in published] == ["e1"]


def test_deinit_stops_reporting(captured: Any) -> None:
    published, init = captured
    init()
    deinit_sentry()
    sentry_sdk.capture_message("after deinit")
    assert published == []


def test_requires_publish_or_dsn() -> None:
    with pytest.raises(ValueError, match="publish"):
        init_sentry(config())

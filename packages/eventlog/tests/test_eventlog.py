from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from openmodule.messaging import NoRunningCore
from openmodule.utils.eventlog import (
    AnonymizationType,
    EventInfo,
    EventlogMessage,
    MessageKwarg,
    PlateFormatData,
    send_event,
)


def test_send_event_reaches_the_bus_and_reads_back(bus):
    infos = EventInfo.create(
        "session_started", datetime(2024, 5, 1, 12, 30), "gate_1", "G ARIVO 1", "A", "s1", None, "v1", 250
    )
    send_event(
        infos,
        "{lpr} entered at {gate}, medium {medium}, {who} pays {amount}",
        lpr=MessageKwarg.lpr("G ARIVO 1", "A"),
        gate=MessageKwarg.gate("gate_1"),
        medium=MessageKwarg.medium("QR-7"),
        who=MessageKwarg.string("Jane Doe"),
        amount=MessageKwarg.price(250),
    )
    raw = bus.next_event()
    assert raw["type"] == "create_event" and raw["name"] == "om_eventlog_test_1"
    assert raw["event"]["infos"]["timestamp"] == "2024-05-01T12:30:00"
    assert raw["event"]["message_kwargs"]["lpr"] == {
        "value": {"plate": "G ARIVO 1", "country": "A"},
        "anonymization_type": "lpr",
        "format_type": "lpr",
    }
    event = EventlogMessage.model_validate(raw).event
    assert event.infos == infos
    assert event.message_kwargs["lpr"].value == PlateFormatData(plate="G ARIVO 1", country="A")
    assert event.message_kwargs["amount"] == MessageKwarg(
        value=250, anonymization_type=AnonymizationType.no, format_type="price"
    )
    assert event.message_kwargs["who"].anonymization_type is AnonymizationType.default
    assert event.message_kwargs["medium"].anonymization_type is AnonymizationType.medium


def test_defaults(bus):
    send_event(EventInfo.create("gate_opened"), "Gate opened")
    raw = bus.next_event()
    infos = EventlogMessage.model_validate(raw).event.infos
    assert infos.gate is None and abs((datetime.utcnow() - infos.timestamp).total_seconds()) < 60
    assert MessageKwarg.lpr("W 123").value.country == "-"


def test_factories_pick_format_and_anonymization():
    table = {
        "rate": MessageKwarg.rate("r1"),
        "cost_group": MessageKwarg.cost_group("staff"),
        "gate": MessageKwarg.gate("gate_1"),
        "price": MessageKwarg.price(1),
    }
    for format_type, kwarg in table.items():
        assert (kwarg.format_type, kwarg.anonymization_type) == (format_type, AnonymizationType.no)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: MessageKwarg.price("1.50"), "needs a int value"),
        (lambda: MessageKwarg.price(True), "needs a int value"),
        (lambda: MessageKwarg.medium(12), "needs a str value"),
        (lambda: MessageKwarg(value="G ARIVO", format_type="lpr"), "needs a PlateFormatData value"),
        (lambda: EventInfo.create("nounderscore"), "must contain '_'"),
    ],
)
def test_wrong_values_are_rejected(build, match):
    with pytest.raises(ValidationError, match=match):
        build()


def test_unknown_format_types_accept_any_value():
    assert MessageKwarg(value={"x": 1}, format_type="custom").value == {"x": 1}


def test_message_placeholders_need_arguments():
    with pytest.raises(ValueError, match=r"uses \['name'\] without a MessageKwarg"):
        EventlogMessage.create(EventInfo.create("a_b"), "hello {name}")
    with pytest.raises(TypeError, match="must be a MessageKwarg"):
        EventlogMessage.create(EventInfo.create("a_b"), "hello {name}", name="plain text")
    with pytest.raises(ValueError, match="not a valid format string"):
        EventlogMessage.create(EventInfo.create("a_b"), "hello {")
    # keyword arguments named like the parameters do not clash
    message = EventlogMessage.create(
        EventInfo.create("a_b"),
        "{message} {infos}",
        message=MessageKwarg.string("m"),
        infos=MessageKwarg.string("i"),
    )
    assert set(message.event.message_kwargs) == {"message", "infos"}


def test_without_a_running_core_sending_fails_clearly():
    with pytest.raises(NoRunningCore, match="sending an event needs a running openmodule core"):
        send_event(EventInfo.create("a_b"), "x")

"""No licence plate and no medium id leaves the device in a Sentry event, transaction or breadcrumb.

A real sentry_sdk client sends through a capturing transport that keeps the serialized envelopes: exactly
the bytes that would leave the device. Every test searches them for each personal value in any spelling
(with or without separators, any case).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

import openmodule.sentry._scrub as scrub_module
from openmodule.core import init_openmodule, shutdown_openmodule
from openmodule.models.base import Gateway
from openmodule.models.presence import PresenceEnterMessage
from openmodule.models.vehicle import (
    LPRAlternative,
    LPRCountry,
    LPRMedium,
    Medium,
    MediumType,
    QRMedium,
    Vehicle,
)
from openmodule.sentry import FILTERED, deinit_sentry, init_sentry
from openmodule.utils.presence import PresenceListener

# Built at run time: the source lines Sentry puts into events must not contain them.
PLATE = "".join(["G AR", "IVO1"])
ALTERNATIVE = "".join(["G AR", "IV01"])
QR_ID = "".join(["QR-77", "31-XK"])
NFC_ID = "".join(["04A2", "24F2"])
SECRETS = (PLATE, ALTERNATIVE, QR_ID, NFC_ID)
VEHICLE_ID = 1_700_000_000_123_456_789


def _spelled_any_way(secret: str) -> re.Pattern[str]:
    chars = [c for c in secret if c.isalnum()]
    return re.compile(r"[\W_]{0,3}".join(re.escape(c) for c in chars), re.IGNORECASE)


LEAKS = [(secret, _spelled_any_way(secret)) for secret in SECRETS]


class CapturingTransport(Transport):
    """Keeps every envelope sentry_sdk would send, serialized."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[bytes] = []
        self._lock = threading.Lock()

    def capture_envelope(self, envelope: Envelope) -> None:
        with self._lock:
            self.envelopes.append(envelope.serialize())

    def flush(self, timeout: float, callback: Any | None = None) -> None:
        return None

    def kill(self) -> None:
        return None

    def text(self) -> str:
        with self._lock:
            return b"\n".join(self.envelopes).decode("utf-8", "replace")


def assert_no_leak(transport: CapturingTransport) -> str:
    text = transport.text()
    assert text, "nothing was sent"
    found = [secret for secret, pattern in LEAKS if pattern.search(text)]
    assert found == [], f"personal data left the device: {found}\n{text[:3000]}"
    return text


@pytest.fixture(autouse=True)
def forget_recent_values() -> Iterator[None]:
    # values seen by earlier tests are remembered by design: each test must prove its own path
    scrub_module._recent.clear()
    yield
    scrub_module._recent.clear()


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    capturing = CapturingTransport()
    yield capturing
    deinit_sentry()
    # sentry_sdk keeps the name of the last transaction on the current scope: no test may see another's
    sentry_sdk.get_current_scope().clear()


def _config(**overrides: Any) -> Any:
    import types

    values = dict(NAME="om_leak_test_1", RESOURCE="device-7", VERSION="1.2.3", DEBUG=False, TESTING=False)
    values.update(overrides)
    return types.SimpleNamespace(**values)


def _vehicle() -> Vehicle:
    return Vehicle(
        id=VEHICLE_ID,
        lpr=LPRMedium(
            id=PLATE,
            country=LPRCountry(code="A"),
            alternatives=[LPRAlternative(confidence=0.4, plate=ALTERNATIVE)],
        ),
        qr=QRMedium(id=QR_ID),
        nfc=Medium(id=NFC_ID, type=MediumType.nfc),
    )


def _presence_message() -> dict[str, Any]:
    return {
        "timestamp": 1700000000.0,
        "name": "tracking",
        "type": "enter",
        "vehicle_id": VEHICLE_ID,
        "source": "tracking",
        "present-area-name": "area1",
        "last_update": 1700000000.0,
        "gateway": {"gate": "gate_1", "direction": "in"},
        "medium": {
            "lpr": {
                "id": PLATE,
                "country": {"code": "A"},
                "alternatives": [{"confidence": 0.4, "plate": ALTERNATIVE}],
            },
            "qr": {"id": QR_ID},
            "nfc": {"id": NFC_ID, "type": "nfc"},
        },
        "all_ids": [],
    }


def test_presence_handlers_raising_in_the_real_dispatcher(
    configured: Any, bus: Any, om_wait_until: Any, transport: CapturingTransport, no_core_left: None
) -> None:
    core = init_openmodule(configured, sentry=False, dsgvo=False, logging=False)
    try:
        init_sentry(core, transport=transport)
        presence = PresenceListener(core.messages, rpc_client=core.rpc_client)

        def on_enter(vehicle: Vehicle, gateway: Gateway) -> None:
            gate = gateway.gate
            raise RuntimeError(f"barrier at {gate} failed")  # the vehicle is only a frame variable

        def raw_handler(message: PresenceEnterMessage) -> None:
            medium = message.medium.lpr
            raise KeyError(medium)  # the exception text is the repr of LPRMedium

        presence.on_enter.append(on_enter)
        core.messages.register_handler("presence", PresenceEnterMessage, raw_handler, register_schema=False)

        def reported() -> bool:
            text = transport.text()
            return "barrier at gate_1 failed" in text and "KeyError" in text

        om_wait_until(lambda: bus.publish(_presence_message(), "presence") or reported(), what="both events")
    finally:
        shutdown_openmodule()
    text = assert_no_leak(transport)
    # the report is still useful: what failed and where
    assert "RuntimeError" in text and "on_enter" in text and "raw_handler" in text
    assert "LPRMedium(id='[Filtered]'" in text or FILTERED in text


def test_exception_text_and_other_local_names(transport: CapturingTransport) -> None:
    init_sentry(_config(), transport=transport)
    vehicle = _vehicle()

    def check(entry: Vehicle) -> None:
        number = entry.lpr.id if entry.lpr else ""
        by_plate = {number: entry.id, "gate": "gate_1"}
        folded = number.replace(" ", "").lower()
        raise ValueError(f"unknown plate {number} ({folded}) at gate_1: {entry} {by_plate}")

    try:
        check(vehicle)
    except ValueError:
        sentry_sdk.capture_exception()
    text = assert_no_leak(transport)
    assert "unknown plate [Filtered] ([Filtered]) at gate_1" in text


def test_fstring_log_messages_and_breadcrumbs(transport: CapturingTransport) -> None:
    init_sentry(_config(), transport=transport)
    log = logging.getLogger("test.sentry.leaks")
    log.setLevel(logging.INFO)
    vehicle = _vehicle()
    medium = vehicle.qr
    log.info(f"vehicle {vehicle} entered, qr {medium!r}")  # a breadcrumb
    log.warning(f"nfc {vehicle.nfc.id if vehicle.nfc else '-'} unknown")  # another one
    sentry_sdk.add_breadcrumb(
        category="presence", message=f"enter {PLATE.lower()}", data={"lprMedium": vehicle.lpr.model_dump()}
    )
    log.error(f"plate {vehicle.lpr.id if vehicle.lpr else ''} not allowed at gate_1")  # an event
    text = assert_no_leak(transport)
    assert "not allowed at gate_1" in text
    assert "entered, qr" in text  # the breadcrumb is kept, only the values are gone


def test_camel_case_and_other_spellings_of_keys(transport: CapturingTransport) -> None:
    init_sentry(_config(), transport=transport)
    scope = sentry_sdk.get_isolation_scope()
    scope.set_extra(
        "payload", {"licensePlate": PLATE, "LprMedium": {"Id": QR_ID}, "nfcId": NFC_ID, "lane": 2}
    )
    scope.set_tag("plateText", ALTERNATIVE)
    scope.set_context("gate", {"Last-Plate": PLATE, "QRCode": QR_ID, "name": "gate_1"})
    sentry_sdk.capture_message("gate 1 jammed")
    text = assert_no_leak(transport)
    assert '"lane": 2' in text or '"lane":2' in text
    assert "gate_1" in text


def test_transaction_and_span_data(transport: CapturingTransport) -> None:
    init_sentry(_config(), transport=transport, traces_sample_rate=1.0)
    vehicle = _vehicle()

    def lookup(transaction: Any, entry: Vehicle) -> None:
        # this frame is gone when the transaction finishes; entry is a variable of the frame above
        with transaction.start_child(op="db", name=f"lookup {entry.lpr.id if entry.lpr else ''}") as span:
            span.set_data("media", f"{entry.qr} {entry.nfc}")
            span.set_data("plateNumber", ALTERNATIVE)

    def note(transaction: Any, text: str) -> None:
        # only the span data under a personal key says what the value is
        with transaction.start_child(op="note", name=text) as span:
            span.set_data("licensePlate", text.split(": ")[1])

    with sentry_sdk.start_transaction(op="presence", name=f"enter {PLATE}") as transaction:
        transaction.set_tag("vehicle", str(vehicle))
        transaction.set_data("qr", QR_ID)
        lookup(transaction, vehicle)
        note(transaction, "seen again: " + "".join(reversed(PLATE[::-1])))
    text = assert_no_leak(transport)
    assert '"type":"transaction"' in text.replace(" ", "")
    assert "lookup [Filtered]" in text


def test_values_only_in_a_gone_frame_are_found_by_their_shape(transport: CapturingTransport) -> None:
    # nothing holds the vehicle any more when the event is sent: the reprs give the values away
    init_sentry(_config(), transport=transport)
    text = repr(_vehicle())
    sentry_sdk.get_isolation_scope().set_extra("last", text + " " + str(_vehicle().lpr) + f" plate='{PLATE}'")
    sentry_sdk.capture_message("shape only")
    assert_no_leak(transport)


def test_sentry_logs(transport: CapturingTransport) -> None:
    # with Sentry logs switched on (DSN mode), log records travel as log items of their own
    init_sentry(_config(), transport=transport, enable_logs=True)
    log = logging.getLogger("test.sentry.logs")
    vehicle = _vehicle()
    log.warning("plate %s refused", PLATE)
    log.warning(f"medium {vehicle.qr} and {vehicle.nfc} refused")
    sentry_sdk.get_client().flush()
    text = assert_no_leak(transport)
    assert '"type":"log"' in text.replace(" ", "")
    assert "plate %s refused" in text and "refused" in text


@pytest.mark.parametrize(
    "key",
    [
        "plate",
        "licensePlate",
        "license_plate",
        "LicensePlate",
        "license-plate",
        "LICENSE_PLATE",
        "entryPlate",
        "lpr_medium",
        "LprMedium",
        "vehicleIds",
        "QRCode",
        "qr_code",
        "nfcId",
        "pin",
    ],
)
def test_personal_key_spellings(key: str) -> None:
    from openmodule.sentry import is_personal_key

    assert is_personal_key(key)


@pytest.mark.parametrize(
    "key", ["gate", "name", "message", "timestamp", "lane", "direction", "spinner", "pinecone"]
)
def test_ordinary_keys(key: str) -> None:
    from openmodule.sentry import is_personal_key

    assert not is_personal_key(key)


def test_registered_type_of_a_service(transport: CapturingTransport) -> None:
    from openmodule.sentry import register_personal_data_type

    class Ticket:
        def __init__(self, code: str) -> None:
            self.code = code
            self.kind = "day"

        def __repr__(self) -> str:
            return f"<Ticket {self.code}>"

    register_personal_data_type(Ticket, "code")
    init_sentry(_config(), transport=transport)
    ticket = Ticket(PLATE.replace(" ", "-"))
    try:
        raise LookupError(f"no tariff for {ticket!r}")
    except LookupError:
        sentry_sdk.capture_exception()
    text = assert_no_leak(transport)
    assert "no tariff for <Ticket [Filtered]>" in text

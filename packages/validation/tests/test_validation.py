from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from openmodule.models.base import CostEntryData
from openmodule.models.validation import (
    ValidateRequest,
    ValidateRequestTicketType,
    ValidateResponse,
    ValidateResponseError,
    ValidateResponseState,
)
from openmodule.utils.validation import Validation

VOUCHER = base64.b64encode(b"voucher-42").decode()


class Vouchers(Validation):
    def __init__(self, core=None):
        super().__init__(core)
        self.seen: list[ValidateRequest] = []

    def validate_ticket(self, request: ValidateRequest) -> ValidateResponse:
        self.seen.append(request)
        ticket = base64.b64decode(request.payload)
        if ticket == b"used":
            return ValidateResponse(state=ValidateResponseState.ok, error=ValidateResponseError.already_used)
        if not ticket.startswith(b"voucher-"):
            return ValidateResponse(state=ValidateResponseState.not_applicable)
        return ValidateResponse(
            state=ValidateResponseState.ok,
            cost_entries=[
                CostEntryData(entry_type="amount_validation", value=200, account_id="1"),
                CostEntryData(entry_type="amount_validation", value=100, account_id="2", source="cashier"),
            ],
            message="voucher 42",
        )


def request(name="om_vouchers_1", payload=VOUCHER, type="qr", **extra):
    return ValidateRequest(name=name, session_id="s1", type=type, payload=payload, **extra)


def test_rpc_validates_and_stamps_the_source(bus):
    provider = Vouchers()
    provider.register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()
    response = bus.client.rpc("validation_provider", "validate", request(gate="exit"), ValidateResponse)
    assert response.state is ValidateResponseState.ok and response.message == "voucher 42"
    assert [(e.value, e.source) for e in response.cost_entries] == [(200, "vouchers"), (100, "cashier")]
    assert provider.seen[0].gate == "exit" and provider.seen[0].type is ValidateRequestTicketType.qr

    used = base64.b64encode(b"used").decode()
    response = bus.client.rpc("validation_provider", "validate", request(payload=used), ValidateResponse)
    assert response.error is ValidateResponseError.already_used and response.cost_entries is None


def test_requests_for_other_providers_are_not_answered(bus):
    provider = Vouchers()
    provider.register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()
    with pytest.raises(bus.client.TimeoutError):
        bus.client.rpc(
            "validation_provider", "validate", request(name="om_other_1"), ValidateResponse, timeout=1
        )
    assert provider.seen == []


def test_name_comes_from_the_core_config_when_given(bus):
    provider = Vouchers(SimpleNamespace(config=SimpleNamespace(NAME="om_parking_voucher_3")))
    provider.register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()
    response = bus.client.rpc(
        "validation_provider", "validate", request(name="om_parking_voucher_3"), ValidateResponse
    )
    assert response.cost_entries[0].source == "parking_voucher"


def test_a_payload_that_is_not_base64_is_a_validation_error(bus):
    Vouchers().register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()
    bad = request().model_copy(update={"payload": "not base64!"})  # built without validation, as a peer might
    with pytest.raises(bus.client.ServerValidationError, match="base64"):
        bus.client.rpc("validation_provider", "validate", bad, ValidateResponse)
    with pytest.raises(ValidationError, match="base64"):
        request(payload="AAAAA")
    with pytest.raises(ValidationError):
        request(type="barcode")


def test_missing_implementation_and_wrong_return_type():
    with pytest.raises(NotImplementedError, match="validate_ticket"):
        Validation().rpc_validate_ticket(request())

    class Broken(Validation):
        def validate_ticket(self, request):
            return {"state": "ok"}

    with pytest.raises(TypeError, match="must return a ValidateResponse"):
        Broken().rpc_validate_ticket(request())

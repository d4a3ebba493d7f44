"""Wire models of the ``validation_provider``/``validate`` RPC: a ticket (QR code, NFC card) presented at a
payment terminal or gate is checked by the validation providers of the site.

Usage::

    from openmodule.models.validation import ValidateRequest, ValidateResponse, ValidateResponseState

    ValidateResponse(state=ValidateResponseState.ok, cost_entries=[...])
"""

from __future__ import annotations

from enum import StrEnum

from openmodule.models.base import Base64Payload, CostEntryData, OpenModuleModel

__all__ = [
    "VALIDATION_CHANNEL",
    "VALIDATION_TYPE",
    "ValidateRequest",
    "ValidateRequestTicketType",
    "ValidateResponse",
    "ValidateResponseError",
    "ValidateResponseState",
]

VALIDATION_CHANNEL = "validation_provider"
VALIDATION_TYPE = "validate"


class ValidateRequestTicketType(StrEnum):
    """How the ticket was read."""

    qr = "qr"
    nfc = "nfc"


class ValidateRequest(OpenModuleModel):
    """A ticket to validate for a session; ``name`` is the provider asked, ``payload`` the ticket's content as
    base64 text."""

    name: str
    session_id: str
    type: ValidateRequestTicketType
    payload: Base64Payload
    gate: str | None = None


class ValidateResponseState(StrEnum):
    """``ok``: the ticket is valid for this provider; ``not_applicable``: not one of its tickets."""

    ok = "ok"
    not_applicable = "not_applicable"


class ValidateResponseError(StrEnum):
    """Why a ticket of this provider is not valid."""

    already_used = "already_used"
    invalid = "invalid"
    excluded = "excluded"
    expired = "expired"
    unknown_error = "unknown_error"


class ValidateResponse(OpenModuleModel):
    """The provider's answer; ``cost_entries`` are booked on the session when the ticket is valid."""

    state: ValidateResponseState
    error: ValidateResponseError | None = None
    cost_entries: list[CostEntryData] | None = None
    message: str | None = None

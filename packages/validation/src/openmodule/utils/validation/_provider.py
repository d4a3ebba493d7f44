from __future__ import annotations

import logging
from typing import Any

from openmodule.config import settings
from openmodule.messaging import RunningCore
from openmodule.models.validation import (
    VALIDATION_CHANNEL,
    VALIDATION_TYPE,
    ValidateRequest,
    ValidateResponse,
)
from openmodule.utils.misc_functions import clean_service_name

log = logging.getLogger("openmodule.utils.validation")


class Validation:
    """Base class of a validation provider: implement :meth:`validate_ticket`, then register the RPC.

    ``core`` (optional) supplies the service's config (``core.config.NAME``); without it ``settings.NAME`` is
    used. Only requests whose ``name`` is this service's NAME are answered (several providers share the
    channel). Cost entries without a ``source`` get the cleaned service name (``om_vouchers_1`` ->
    ``vouchers``).

    Usage::

        class QrVouchers(Validation):
            def validate_ticket(self, request: ValidateRequest) -> ValidateResponse:
                if not known(request.payload):
                    return ValidateResponse(state=ValidateResponseState.not_applicable)
                return ValidateResponse(state=ValidateResponseState.ok, cost_entries=[...])

        QrVouchers(core).register_rpcs(rpc_server)
    """

    def __init__(self, core: RunningCore | None = None) -> None:
        self.core = core

    @property
    def name(self) -> str:
        """The service's NAME (read per request, so overridden settings apply)."""
        config = getattr(self.core, "config", None)
        return str(getattr(config, "NAME", None) or settings.NAME)

    def register_rpcs(self, rpc_server: Any) -> None:
        """Serve ``validation_provider``/``validate`` on ``rpc_server`` for requests naming this service."""
        rpc_server.add_filter(self._name_filter, VALIDATION_CHANNEL, VALIDATION_TYPE)
        rpc_server.register_handler(
            VALIDATION_CHANNEL, VALIDATION_TYPE, ValidateRequest, ValidateResponse, self.rpc_validate_ticket
        )

    def _name_filter(self, request: Any, message: Any = None, handler: Any = None, **_: Any) -> bool:
        return getattr(request, "name", None) == self.name

    def rpc_validate_ticket(self, request: ValidateRequest, message: Any = None) -> ValidateResponse:
        """The RPC handler: :meth:`validate_ticket`, then the cost entries' ``source`` defaulted."""
        response = self.validate_ticket(request)
        if not isinstance(response, ValidateResponse):
            raise TypeError(
                f"{type(self).__name__}.validate_ticket must return a ValidateResponse, "
                f"not {type(response).__name__}"
            )
        source = clean_service_name(self.name)
        for entry in response.cost_entries or ():
            if entry.source is None:
                entry.source = source
        return response

    def validate_ticket(self, request: ValidateRequest) -> ValidateResponse:
        """Check the ticket; return ``not_applicable`` for tickets that are not this provider's."""
        raise NotImplementedError(f"{type(self).__name__} must implement validate_ticket(request)")

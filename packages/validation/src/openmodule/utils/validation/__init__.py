"""Ticket validation providers: answer the ``validation_provider``/``validate`` RPC.

Usage::

    from openmodule.utils.validation import Validation

    class QrVouchers(Validation):
        def validate_ticket(self, request):
            ...

    QrVouchers(core).register_rpcs(rpc_server)
"""

from __future__ import annotations

from openmodule.utils.validation._provider import Validation

__all__ = ["Validation"]

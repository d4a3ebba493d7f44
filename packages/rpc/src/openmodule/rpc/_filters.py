"""Request filters of the RPC server and the ``gateway_filter`` factory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

RPCFilter = Callable[..., Any]
"""A filter is called as ``filter(request=<model>, message=<RPCRequest>, handler=<RPCHandler>)``."""


@dataclass(frozen=True, slots=True)
class FilterEntry:
    """A registered filter and the channel/type it is scoped to (``None`` = any)."""

    filter: RPCFilter
    channel: str | None = None
    type: str | None = None

    def applies(self, channel: str, type: str) -> bool:
        return (self.channel is None or self.channel == channel) and (self.type is None or self.type == type)


def should_process(filters: list[FilterEntry], channel: str, type: str, **kwargs: Any) -> bool:
    """Accepted if any applicable filter accepts, or if no filter applies; exceptions propagate."""
    rejected = False
    for entry in filters:
        if not entry.applies(channel, type):
            continue
        # Keyword call: existing filters are written as ``def f(request, **_)``.
        if entry.filter(**kwargs):
            return True
        rejected = True
    return not rejected


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _value(value: Any) -> Any:
    # Direction is a str enum; compare plain values so "in" and Direction.IN match.
    return getattr(value, "value", value)


def gateway_filter(gate: str | None = None, direction: Any = None) -> RPCFilter:
    """A filter accepting requests whose ``gateway`` has the given gate and/or direction.

    Requests without a gateway are rejected. Works for request models and dict requests.
    Usage: ``server.add_filter(gateway_filter(gate="gate_1"), "access", "check")``
    """

    def _filter(request: Any = None, message: Any = None, handler: Any = None, **_: Any) -> bool:
        gateway = _get(request, "gateway")
        if gateway is None:
            return False
        if gate is not None and _get(gateway, "gate") != gate:
            return False
        if direction is not None and _value(_get(gateway, "direction")) != _value(direction):
            return False
        return True

    _filter.__doc__ = f"accepts requests of gateway gate={gate!r} direction={_value(direction)!r}"
    return _filter

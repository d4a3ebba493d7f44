"""Wire models of the ``io`` topic: the state of digital input/output pins reported by IO services.

Usage::

    from openmodule.models.io import IoMessage

    IoMessage(gateway=Gateway(gate="gate_1", direction="in"), type="input", pin="gate_1_button",
              value=1, edge=1)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from openmodule.models.base import Datetime, Gateway, OpenModuleModel, ZMQMessage

__all__ = ["IO_TOPIC", "IoMessage", "IoState", "IoType"]

#: The topic IO services publish pin states on.
IO_TOPIC = "io"

#: ``last_timestamp`` of a pin that was never reported (the epoch, naive UTC).
_NEVER = datetime(1970, 1, 1)


class IoType(StrEnum):
    """Kind of pin (the message's ``type``); a str enum, so it compares equal to ``"input"``/``"output"``."""

    input = "input"
    output = "output"


class IoMessage(ZMQMessage):
    """The state of one pin, published on ``io`` when it changes (``edge=1``) or to refresh it (``edge=0``).

    ``value`` is the logical value (after inversion), ``physical`` the electrical level when the sender knows
    it. ``type`` is ``"input"`` or ``"output"``; other kinds are accepted as text so a newer IO service does
    not make its messages undeliverable. The pin name must not be empty.
    """

    type: str
    gateway: Gateway
    pin: str
    value: int
    inverted: bool = False
    physical: int | None = None
    edge: int
    pin_number: int | str | None = None
    pin_label: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("pin")
    @classmethod
    def _pin_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an IO message needs a pin name (got an empty one)")
        return value


class IoState(OpenModuleModel):
    """What an :class:`~openmodule.utils.io.IoListener` knows about one pin.

    A pin never seen has the all-zero default state (empty ``pin`` and gateway, ``last_timestamp`` at the
    epoch).
    """

    gateway: Gateway = Field(default_factory=Gateway)
    type: str = ""
    pin: str = ""
    value: int = 0
    inverted: bool = False
    physical: int = 0
    last_timestamp: Datetime = _NEVER

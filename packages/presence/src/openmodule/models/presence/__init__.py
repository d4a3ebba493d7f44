"""Presence messages of the tracking service (topic ``presence``) and its ``get-present`` RPC.

Usage::

    from openmodule.models.presence import PresenceEnterMessage
    dispatcher.register_handler("presence", PresenceEnterMessage, on_enter)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator

from openmodule.models.base import Datetime, Gateway, OpenModuleModel, ZMQMessage
from openmodule.models.vehicle import (
    EnterDirection,
    LPRMedium,
    MakeModel,
    Medium,
    PresenceAllIds,
    QRMedium,
    Vehicle,
    _all_ids,
)

__all__ = [
    "PresenceBackwardMessage",
    "PresenceBaseData",
    "PresenceBaseMessage",
    "PresenceChangeMessage",
    "PresenceEnterMessage",
    "PresenceForwardMessage",
    "PresenceLeaveMessage",
    "PresenceMedia",
    "PresenceRPCRequest",
    "PresenceRPCResponse",
    "vehicle_from_presence_message",
]

_EPOCH = datetime(1970, 1, 1)


class PresenceMedia(OpenModuleModel):
    lpr: LPRMedium | None = None
    qr: QRMedium | None = None
    nfc: Medium | None = None
    pin: Medium | None = None


class PresenceBaseData(OpenModuleModel):
    """The vehicle part of every presence message; fields accept their python name or wire alias."""

    vehicle_id: int
    source: str
    present_area_name: str = Field(alias="present-area-name")
    last_update: Datetime
    gateway: Gateway
    medium: PresenceMedia
    make_model: MakeModel | None = None
    all_ids: PresenceAllIds = PresenceAllIds()
    enter_direction: EnterDirection = EnterDirection.unknown
    enter_time: Datetime | None = None

    _normalize_all_ids = field_validator("all_ids", mode="before")(lambda cls, v: _all_ids(v))

    @model_validator(mode="after")
    def _enter_time_from_id(self) -> Any:
        if self.enter_time is None:
            # vehicle ids are the entry time in nanoseconds since the epoch
            try:
                object.__setattr__(
                    self, "enter_time", _EPOCH + timedelta(microseconds=self.vehicle_id // 1000)
                )
            except OverflowError:
                pass
        return self


class PresenceBaseMessage(PresenceBaseData, ZMQMessage):
    """A presence message (``type`` enter/leave/forward/backward/change)."""


class PresenceEnterMessage(PresenceBaseMessage):
    type: str = "enter"


class PresenceLeaveMessage(PresenceBaseMessage):
    type: str = "leave"
    num_presents: int = Field(default=0, alias="num-presents")
    leave_time: Datetime | None = Field(default=None, alias="leave-time")

    @model_validator(mode="after")
    def _leave_time_default(self) -> Any:
        if self.leave_time is None:
            object.__setattr__(self, "leave_time", self.timestamp)
        return self


class PresenceForwardMessage(PresenceBaseMessage):
    type: str = "forward"
    unsure: bool = False
    leave_time: Datetime = Field(alias="leave-time")
    bidirectional_inverse: bool = False


class PresenceBackwardMessage(PresenceBaseMessage):
    type: str = "backward"
    unsure: bool = False
    leave_time: Datetime = Field(alias="leave-time")
    bidirectional_inverse: bool = False


class PresenceChangeMessage(PresenceBaseMessage):
    type: str = "change"
    change_vehicle_id: bool | None = None


class PresenceRPCRequest(OpenModuleModel):
    """``tracking`` / ``get-present`` request."""

    gate: str


class PresenceRPCResponse(OpenModuleModel):
    presents: list[PresenceBaseData]


def vehicle_from_presence_message(message: PresenceBaseData) -> Vehicle:
    """The :class:`Vehicle` a presence message reports.

    Usage: ``vehicle = vehicle_from_presence_message(PresenceEnterMessage.model_validate(raw))``
    """
    return Vehicle(
        id=message.vehicle_id,
        lpr=message.medium.lpr,
        qr=message.medium.qr,
        nfc=message.medium.nfc,
        pin=message.medium.pin,
        make_model=message.make_model,
        all_ids=message.all_ids,
        enter_direction=message.enter_direction,
    )

"""``VehicleBuilder`` and ``PresenceSimulator``: drive a presence listener with realistic messages."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from openmodule.models.base import Direction, Gateway
from openmodule.models.presence import (
    PresenceBackwardMessage,
    PresenceChangeMessage,
    PresenceEnterMessage,
    PresenceForwardMessage,
    PresenceLeaveMessage,
    PresenceMedia,
)
from openmodule.models.vehicle import (
    EnterDirection,
    LPRCountry,
    LPRMedium,
    MakeModel,
    Medium,
    MediumType,
    PresenceAllIds,
    QRMedium,
    Vehicle,
)
from openmodule_test.utils import DeveloperError

__all__ = ["PresenceSimulator", "PresenceSimulatorError", "VehicleBuilder"]


class PresenceSimulatorError(DeveloperError, AssertionError):
    """The simulator was driven in a way tracking never would. Also an ``AssertionError``: the reference's
    simulator asserted, and tests written for it expect that."""


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class VehicleBuilder:
    """Chainable builder of a test vehicle.

    Usage: ``vehicle = VehicleBuilder().lpr("A", "G ARIVO1").nfc("0123")``
    """

    def __init__(self) -> None:
        self.vehicle_id = time.time_ns() + random.randint(0, 1_000_000)
        self.medium = PresenceMedia()
        self.make_model = MakeModel(
            make="UNKNOWN", make_confidence=0.7, model="UNKNOWN", model_confidence=-1.0
        )
        self.enter_direction = EnterDirection.unknown

    def id(self, id: int) -> VehicleBuilder:
        self.vehicle_id = id
        return self

    def lpr(self, country: str | None, plate: str | None = None, state: str = "") -> VehicleBuilder:
        """Set (or with ``country=None`` remove) the licence plate."""
        if country is None:
            self.medium.lpr = None
        else:
            self.medium.lpr = LPRMedium(id=plate or "", country=LPRCountry(code=country, state=state))
        return self

    def nfc(self, id: str | None) -> VehicleBuilder:
        self.medium.nfc = None if id is None else Medium(id=id, type=MediumType.nfc)
        return self

    def qr(self, id: str | None, binary: str | None = None) -> VehicleBuilder:
        self.medium.qr = None if id is None else QRMedium(id=id, binary=binary)
        return self

    def pin(self, id: str | None) -> VehicleBuilder:
        self.medium.pin = None if id is None else Medium(id=id, type=MediumType.pin)
        return self

    def set_make_model(self, make_model: MakeModel) -> VehicleBuilder:
        self.make_model = make_model
        return self

    def set_enter_direction(self, direction: EnterDirection | str) -> VehicleBuilder:
        self.enter_direction = EnterDirection(direction)
        return self

    def all_ids(self) -> PresenceAllIds:
        m = self.medium
        return PresenceAllIds(
            lpr=[m.lpr] if m.lpr else None,
            qr=[m.qr] if m.qr else None,
            nfc=[m.nfc] if m.nfc else None,
            pin=[m.pin] if m.pin else None,
        )

    def vehicle(self) -> Vehicle:
        return Vehicle(
            id=self.vehicle_id,
            lpr=self.medium.lpr,
            qr=self.medium.qr,
            nfc=self.medium.nfc,
            pin=self.medium.pin,
            make_model=self.make_model,
            all_ids=self.all_ids(),
            enter_direction=self.enter_direction,
        )


class PresenceSimulator:
    """Sends the presence messages of one gate through ``emit(message)``.

    Usage::

        sim = PresenceSimulator("gate_1", Direction.IN, lambda m: core.publish(m, "presence"))
        car = sim.vehicle().lpr("A", "G ARIVO1")
        sim.enter(car)
        sim.forward()
    """

    def __init__(
        self,
        gate: str,
        direction: Direction | str,
        emit: Callable[[Any], Any],
        present_area_name: str | None = None,
    ) -> None:
        self.gateway = Gateway(gate=gate, direction=Direction(direction))
        self.emit = emit
        self.present_area_name = present_area_name or f"{gate}-present"
        self.current_present: VehicleBuilder | None = None

    @staticmethod
    def vehicle() -> VehicleBuilder:
        return VehicleBuilder()

    def _message(self, cls: type, vehicle: VehicleBuilder, **extra: Any) -> Any:
        return cls(
            name="presence-sim",
            source=self.gateway.gate,
            vehicle_id=vehicle.vehicle_id,
            present_area_name=self.present_area_name,
            last_update=_utcnow(),
            gateway=self.gateway,
            medium=vehicle.medium.model_copy(deep=True),
            make_model=vehicle.make_model,
            all_ids=vehicle.all_ids(),
            enter_direction=vehicle.enter_direction,
            **extra,
        )

    def enter(self, vehicle: VehicleBuilder) -> None:
        """The vehicle enters; a vehicle already present leaves first."""
        if self.current_present is not None:
            self.leave()
        self.current_present = vehicle
        self.emit(self._message(PresenceEnterMessage, vehicle))

    def leave(self) -> VehicleBuilder:
        """The present vehicle leaves; returns its builder."""
        if self.current_present is None:
            raise PresenceSimulatorError("leave() needs a present vehicle: call enter() first")
        vehicle, self.current_present = self.current_present, None
        self.emit(self._message(PresenceLeaveMessage, vehicle, leave_time=_utcnow()))
        return vehicle

    def _pass(self, cls: type, vehicle: VehicleBuilder | None) -> None:
        if vehicle is None:
            vehicle = self.leave()
        self.emit(self._message(cls, vehicle, leave_time=_utcnow()))

    def forward(self, vehicle: VehicleBuilder | None = None) -> None:
        """Without a vehicle: the present one leaves, then passes forward."""
        self._pass(PresenceForwardMessage, vehicle)

    def backward(self, vehicle: VehicleBuilder | None = None) -> None:
        self._pass(PresenceBackwardMessage, vehicle)

    def change(self, vehicle: VehicleBuilder) -> None:
        """The present vehicle's media changed (same builder)."""
        if vehicle is not self.current_present:
            raise PresenceSimulatorError(
                "change() takes the present vehicle; use change_vehicle_and_id() for another"
            )
        self.emit(self._message(PresenceChangeMessage, vehicle))

    def change_before_enter(self, vehicle: VehicleBuilder) -> None:
        self.current_present = vehicle
        self.emit(self._message(PresenceChangeMessage, vehicle))

    def change_vehicle_and_id(self, vehicle: VehicleBuilder) -> None:
        if vehicle is self.current_present:
            raise PresenceSimulatorError(
                "the vehicle id must change: change_vehicle_and_id() takes another vehicle than the present one"
            )
        self.current_present = vehicle
        self.emit(self._message(PresenceChangeMessage, vehicle, change_vehicle_id=True))

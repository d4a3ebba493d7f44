"""Vehicle and media models (``openmodule.models.vehicle``).

Usage::

    from openmodule.models.vehicle import LPRMedium, LPRCountry, Vehicle
    vehicle = Vehicle(id=1700000000000000000, lpr=LPRMedium(id="GARIVO1", country=LPRCountry(code="A")))
    str(vehicle)   # "Vehicle<id:0000000, lpr:[A]GARIVO1>"
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import field_validator

from openmodule.models.base import OpenModuleModel

__all__ = [
    "EnterDirection",
    "LPRAlternative",
    "LPRCountry",
    "LPRMedium",
    "MakeModel",
    "Medium",
    "MediumType",
    "NFCMedium",
    "PINMedium",
    "PresenceAllIds",
    "QRMedium",
    "RegexMedium",
    "Vehicle",
]


class MediumType(StrEnum):
    """Kinds of access media."""

    lpr = "lpr"
    nfc = "nfc"
    pin = "pin"
    qr = "qr"
    regex = "regex"


class Medium(OpenModuleModel):
    """An access medium; equal (and hashed) by ``(id, type)``; ``str()`` is ``type:id`` (long ids shortened).

    Usage: ``Medium(id="1234", type=MediumType.nfc)``
    """

    id: str
    type: MediumType

    def _key(self) -> tuple[Any, ...]:
        return (self.id, self.type)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Medium):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        shown = self.id if len(self.id) <= 10 else self.id[:10] + "..."
        return f"{self.type.value}:{shown}"


class QRMedium(Medium):
    """A QR code; ``binary`` carries the raw content when it is not text."""

    type: MediumType = MediumType.qr
    binary: str | None = None


class PINMedium(Medium):
    type: MediumType = MediumType.pin


class NFCMedium(Medium):
    type: MediumType = MediumType.nfc


class RegexMedium(Medium):
    type: MediumType = MediumType.regex


class LPRCountry(OpenModuleModel):
    code: str
    state: str = ""
    confidence: float = 1


class LPRAlternative(OpenModuleModel):
    confidence: float
    plate: str


class LPRMedium(Medium):
    """A license plate; equal by ``(id, type, country code)``; ``str()`` is ``lpr:[CODE]id``.

    The default country is ``OTHER`` (12.x; plate matching reads it as "any country").
    """

    type: MediumType = MediumType.lpr
    country: LPRCountry = LPRCountry(code="OTHER")
    confidence: float = 1
    alternatives: list[LPRAlternative] = []

    def _key(self) -> tuple[Any, ...]:
        return (self.id, self.type, self.country.code)

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return f"lpr:[{self.country.code}]{self.id}"


class MakeModel(OpenModuleModel):
    make: str
    make_confidence: float
    model: str = "UNKNOWN"
    model_confidence: float = -1.0

    def __str__(self) -> str:
        return self.make if self.model == "UNKNOWN" else f"{self.make}|{self.model}"


class PresenceAllIds(OpenModuleModel):
    """Every medium the tracking saw for a vehicle."""

    lpr: list[LPRMedium] | None = None
    qr: list[Medium] | None = None
    nfc: list[Medium] | None = None
    pin: list[Medium] | None = None


def _all_ids(value: Any) -> Any:
    # 12.x sent an unvalidated [] for "no ids"; it still means empty
    return {} if value is None or value == [] else value


class EnterDirection(StrEnum):
    forward = "forward"
    backward = "backward"
    unknown = "unknown"


class Vehicle(OpenModuleModel):
    """A tracked vehicle; ``id`` is its entry time in nanoseconds since the epoch.

    Usage: ``for medium in vehicle.iterate_media(): ...``
    """

    id: int
    lpr: LPRMedium | None = None
    qr: QRMedium | None = None
    nfc: Medium | None = None
    pin: Medium | None = None
    make_model: MakeModel | None = None
    all_ids: PresenceAllIds = PresenceAllIds()
    enter_direction: EnterDirection = EnterDirection.unknown

    _normalize_all_ids = field_validator("all_ids", mode="before")(lambda cls, v: _all_ids(v))

    def iterate_media(self) -> Iterator[Medium]:
        """The present media in the order lpr, qr, nfc, pin."""
        for medium in (self.lpr, self.qr, self.nfc, self.pin):
            if medium is not None:
                yield medium

    def has_media(self) -> bool:
        return any(True for _ in self.iterate_media())

    def __str__(self) -> str:
        text = f"Vehicle<id:{str(self.id)[-7:]}"
        media = [m for m in (self.lpr, self.qr, self.nfc) if m is not None]
        for medium in media:
            text += f", {medium}"
        if self.make_model is not None:
            text += f" {self.make_model}" if media else f"{self.make_model}"
        return text + ">"
